"""Graph: /policies/authenticationStrengthPolicies (built-in and custom strengths, FIDO2 AAGUID limits)."""
import uuid

from sqlalchemy import select

from .. import clock
from ..directory.models import Roles
from ..extensions import db
from ..graph import audit, current_caller, operation, read_json
from ..graph.api import bad_request, conflict, not_found, odata_context
from ..methods.passkey.policy import normal_aaguid
from ..oidc.models import Client
from . import strengths
from .api import require

BASE = "/policies/authenticationStrengthPolicies"
TARGET = "authenticationStrengthPolicy"
READ_ROLES = {Roles.GLOBAL_ADMIN, Roles.AUTH_POLICY_ADMIN, Roles.GLOBAL_READER}
WRITE_ROLES = {Roles.GLOBAL_ADMIN, Roles.AUTH_POLICY_ADMIN}
READ_PERMISSIONS = ("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod")
WRITE_PERMISSIONS = ("Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod")
STRENGTH_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string"}, "displayName": {"type": "string"}, "description": {"type": ["string", "null"]},
    "policyType": {"type": "string", "enum": ["builtIn", "custom"]}, "requirementsSatisfied": {"type": "string"},
    "allowedCombinations": {"type": "array", "items": {"type": "string"}},
    "combinationConfigurations": {"type": "array", "items": {"type": "object"}}}}
NEW_SCHEMA = {"type": "object", "required": ["displayName", "allowedCombinations"], "properties": {
    "displayName": {"type": "string"}, "description": {"type": "string"},
    "allowedCombinations": {"type": "array", "items": {"type": "string"}},
    "combinationConfigurations": {"type": "array", "items": {"type": "object"}}}}
CONFIG_SCHEMA = {"type": "object", "required": ["appliesToCombinations"], "properties": {
    "@odata.type": {"type": "string"}, "appliesToCombinations": {"type": "array", "items": {"type": "string"}},
    "allowedAAGUIDs": {"type": "array", "items": {"type": "string"}}}}


def graph_config(config: dict) -> dict:
    return {"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", **config}


def graph_strength(strength: strengths.Strength) -> dict:
    return {"@odata.type": "#microsoft.graph.authenticationStrengthPolicy", "id": strength.id,
            "createdDateTime": clock.iso(strength.created_at), "modifiedDateTime": clock.iso(strength.modified_at),
            "displayName": strength.display_name, "description": strength.description,
            "policyType": "builtIn" if strength.built_in else "custom", "requirementsSatisfied": "mfa",
            "allowedCombinations": list(strength.allowed_combinations),
            "combinationConfigurations": [graph_config(c) for c in strength.combination_configurations]}


def _row(strength_id: str, writing: bool) -> strengths.AuthenticationStrength:
    if strength_id in strengths.BUILT_IN:
        if writing:
            raise bad_request("Built-in authentication strengths cannot be changed.")
    row = db.session.get(strengths.AuthenticationStrength, strength_id[:36])
    if row is None or row.tenant_id != current_caller().tenant.id:
        raise not_found(f"There is no authentication strength '{strength_id[:64]}'.")
    return row


def _combinations(value) -> list[str]:
    checked = strengths.check_combinations(value)
    if isinstance(checked, str):
        raise bad_request(checked)
    return checked


def _combination_config(body, combinations: list[str]) -> dict:
    if not isinstance(body, dict):
        raise bad_request("A combination configuration must be an object.")
    odata_type = str(body.get("@odata.type", "#microsoft.graph.fido2CombinationConfiguration")).lstrip("#")
    if odata_type != "microsoft.graph.fido2CombinationConfiguration":
        raise bad_request("Only fido2CombinationConfiguration (allowed AAGUIDs) is supported.")
    applies = body.get("appliesToCombinations")
    if applies != ["fido2"] or "fido2" not in combinations:
        raise bad_request("Property 'appliesToCombinations' must be [\"fido2\"], and the strength must allow fido2.")
    aaguids = body.get("allowedAAGUIDs", [])
    if not isinstance(aaguids, list) or not aaguids or any(normal_aaguid(a) is None for a in aaguids):
        raise bad_request("Property 'allowedAAGUIDs' must be a non-empty list of AAGUIDs.")
    return {"id": str(uuid.uuid4()), "appliesToCombinations": ["fido2"],
            "allowedAAGUIDs": [normal_aaguid(a) for a in aaguids]}


@operation(BASE, ["GET"], summary="List authentication strengths (built-in and custom)",
           responses={"200": ("Strengths", {"type": "object", "properties": {"value": {"type": "array", "items": STRENGTH_SCHEMA}}})})
def list_strengths():
    require(READ_ROLES, READ_PERMISSIONS)
    return {"@odata.context": odata_context("policies/authenticationStrengthPolicies"),
            "value": [graph_strength(s) for s in strengths.all_for(current_caller().tenant.id)]}


@operation(BASE, ["POST"], summary="Create a custom authentication strength", body=NEW_SCHEMA, status=201,
           responses={"201": ("The strength", STRENGTH_SCHEMA)})
def create_strength():
    require(WRITE_ROLES, WRITE_PERMISSIONS)
    body = read_json()
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise bad_request("Property 'displayName' is required (at most 256 characters).")
    tenant_id = current_caller().tenant.id
    if any(s.display_name.lower() == name.strip().lower() for s in strengths.all_for(tenant_id)):
        raise conflict(f"An authentication strength named '{name.strip()[:64]}' already exists.")
    combinations = _combinations(body.get("allowedCombinations"))
    configs = body.get("combinationConfigurations", [])
    if not isinstance(configs, list):
        raise bad_request("Property 'combinationConfigurations' must be a list.")
    description = body.get("description")
    row = strengths.AuthenticationStrength(
        tenant_id=tenant_id, display_name=name.strip(), description=description if isinstance(description, str) else None,
        allowed_combinations=combinations, combination_configurations=[_combination_config(c, combinations) for c in configs])
    db.session.add(row)
    db.session.flush()
    created = graph_strength(strengths.find(tenant_id, row.id))
    audit("Add authentication strength", TARGET, row.id, after=created)
    db.session.commit()
    return {"@odata.context": odata_context("policies/authenticationStrengthPolicies/$entity"), **created}, 201


@operation(BASE + "/{strength_id}", ["GET"], summary="Get an authentication strength",
           responses={"200": ("The strength", STRENGTH_SCHEMA)})
def get_strength(strength_id):
    require(READ_ROLES, READ_PERMISSIONS)
    found = strengths.find(current_caller().tenant.id, strength_id)
    if found is None:
        raise not_found(f"There is no authentication strength '{strength_id[:64]}'.")
    return graph_strength(found)


@operation(BASE + "/{strength_id}", ["PATCH"], summary="Rename or describe a custom strength",
           body={"type": "object", "properties": {"displayName": {"type": "string"}, "description": {"type": "string"}}},
           status=204, responses={"204": ("Changed", None)})
def patch_strength(strength_id):
    require(WRITE_ROLES, WRITE_PERMISSIONS)
    row = _row(strength_id, writing=True)
    body = read_json()
    unknown = set(body) - {"displayName", "description", "@odata.type"}
    if unknown:
        raise bad_request(f"Property '{sorted(unknown)[0]}' cannot be changed here (use updateAllowedCombinations).")
    if "displayName" in body:
        if not isinstance(body["displayName"], str) or not body["displayName"].strip():
            raise bad_request("Property 'displayName' must be a non-empty string.")
        row.display_name = body["displayName"].strip()[:256]
    if "description" in body:
        row.description = body["description"] if isinstance(body["description"], str) else None
    row.modified_at = clock.now()
    audit("Update authentication strength", TARGET, row.id, after={"displayName": row.display_name})
    db.session.commit()
    return "", 204


@operation(BASE + "/{strength_id}/updateAllowedCombinations", ["POST"],
           summary="Replace a custom strength's allowed combinations",
           body={"type": "object", "required": ["allowedCombinations"],
                 "properties": {"allowedCombinations": {"type": "array", "items": {"type": "string"}}}},
           responses={"200": ("The previous and current combinations", {"type": "object"})})
def update_combinations(strength_id):
    require(WRITE_ROLES, WRITE_PERMISSIONS)
    row = _row(strength_id, writing=True)
    combinations = _combinations(read_json().get("allowedCombinations"))
    before = list(row.allowed_combinations)
    row.allowed_combinations = combinations
    row.combination_configurations = [c for c in row.combination_configurations or []
                                       if set(c["appliesToCombinations"]) <= set(combinations)]
    row.modified_at = clock.now()
    audit("Update authentication strength combinations", TARGET, row.id, before={"allowedCombinations": before},
           after={"allowedCombinations": combinations})
    db.session.commit()
    return {"@odata.context": odata_context("microsoft.graph.updateAllowedCombinationsResult"),
            "previousCombinations": before, "currentCombinations": combinations,
            "additionalInformation": None, "conditionalAccessReferences": []}


@operation(BASE + "/{strength_id}", ["DELETE"], summary="Delete a custom strength (not while an app requires it)",
           status=204, responses={"204": ("Deleted", None), "409": ("In use", None)})
def delete_strength(strength_id):
    require(WRITE_ROLES, WRITE_PERMISSIONS)
    row = _row(strength_id, writing=True)
    if db.session.scalar(select(Client.id).where(Client.required_strength_id == row.id).limit(1)):
        raise conflict("An application requires this authentication strength; change the application first.")
    audit("Delete authentication strength", TARGET, row.id, before={"displayName": row.display_name})
    db.session.delete(row)
    db.session.commit()
    return "", 204


@operation(BASE + "/{strength_id}/combinationConfigurations", ["GET"], summary="List a strength's FIDO2 AAGUID limits",
           responses={"200": ("Configurations", {"type": "object"})})
def list_combination_configs(strength_id):
    require(READ_ROLES, READ_PERMISSIONS)
    found = strengths.find(current_caller().tenant.id, strength_id)
    if found is None:
        raise not_found(f"There is no authentication strength '{strength_id[:64]}'.")
    return {"value": [graph_config(c) for c in found.combination_configurations]}


@operation(BASE + "/{strength_id}/combinationConfigurations", ["POST"],
           summary="Limit the strength's fido2 combination to some AAGUIDs", body=CONFIG_SCHEMA, status=201,
           responses={"201": ("The configuration", CONFIG_SCHEMA)})
def add_combination_config(strength_id):
    require(WRITE_ROLES, WRITE_PERMISSIONS)
    row = _row(strength_id, writing=True)
    if row.combination_configurations:
        raise conflict("This strength already limits fido2 to a list of AAGUIDs; delete that configuration first.")
    config = _combination_config(read_json(), row.allowed_combinations)
    row.combination_configurations = [config]
    row.modified_at = clock.now()
    audit("Add authentication strength combination configuration", TARGET, row.id, after=config)
    db.session.commit()
    return graph_config(config), 201


@operation(BASE + "/{strength_id}/combinationConfigurations/{config_id}", ["DELETE"],
           summary="Remove a FIDO2 AAGUID limit", status=204, responses={"204": ("Deleted", None)})
def delete_combination_config(strength_id, config_id):
    require(WRITE_ROLES, WRITE_PERMISSIONS)
    row = _row(strength_id, writing=True)
    kept = [c for c in row.combination_configurations or [] if c["id"] != config_id]
    if len(kept) == len(row.combination_configurations or []):
        raise not_found("There is no such combination configuration.")
    row.combination_configurations = kept
    row.modified_at = clock.now()
    audit("Delete authentication strength combination configuration", TARGET, row.id, before={"id": config_id})
    db.session.commit()
    return "", 204
