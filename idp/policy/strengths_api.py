"""Graph: /policies/authenticationStrengthPolicies (built-in and custom strengths, FIDO2 AAGUID limits)."""

from .. import clock
from ..directory.models import Roles
from ..extensions import db
from ..kit.graph import audit, current_caller, not_found, odata_context, operation, read_json
from . import strength_service, strengths
from .api import require

BASE = "/policies/authenticationStrengthPolicies"
TARGET = "authenticationStrengthPolicy"
STRENGTH_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "displayName": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "policyType": {"type": "string", "enum": ["builtIn", "custom"]},
        "requirementsSatisfied": {"type": "string"},
        "allowedCombinations": {"type": "array", "items": {"type": "string"}},
        "combinationConfigurations": {"type": "array", "items": {"type": "object"}},
    },
}
NEW_SCHEMA = {
    "type": "object",
    "required": ["displayName", "allowedCombinations"],
    "properties": {
        "displayName": {"type": "string"},
        "description": {"type": "string"},
        "allowedCombinations": {"type": "array", "items": {"type": "string"}},
        "combinationConfigurations": {"type": "array", "items": {"type": "object"}},
    },
}
CONFIG_SCHEMA = {
    "type": "object",
    "required": ["appliesToCombinations"],
    "properties": {
        "@odata.type": {"type": "string"},
        "appliesToCombinations": {"type": "array", "items": {"type": "string"}},
        "allowedAAGUIDs": {"type": "array", "items": {"type": "string"}},
    },
}


def graph_config(config: dict) -> dict:
    return {"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", **config}


def graph_strength(strength: strengths.Strength) -> dict:
    return {
        "@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
        "id": strength.id,
        "createdDateTime": clock.iso(strength.created_at),
        "modifiedDateTime": clock.iso(strength.modified_at),
        "displayName": strength.display_name,
        "description": strength.description,
        "policyType": "builtIn" if strength.built_in else "custom",
        "requirementsSatisfied": "mfa",
        "allowedCombinations": list(strength.allowed_combinations),
        "combinationConfigurations": [graph_config(c) for c in strength.combination_configurations],
    }


def _row(strength_id: str) -> strengths.AuthenticationStrength:
    return strength_service.custom_row(current_caller().tenant.id, strength_id)


@operation(
    BASE,
    ["GET"],
    summary="List authentication strengths (built-in and custom)",
    responses={
        "200": ("Strengths", {"type": "object", "properties": {"value": {"type": "array", "items": STRENGTH_SCHEMA}}})
    },
)
def list_strengths():
    require(Roles.POLICY_READERS)
    return {
        "@odata.context": odata_context("policies/authenticationStrengthPolicies"),
        "value": [graph_strength(s) for s in strengths.all_for(current_caller().tenant.id)],
    }


@operation(
    BASE,
    ["POST"],
    summary="Create a custom authentication strength",
    body=NEW_SCHEMA,
    status=201,
    responses={"201": ("The strength", STRENGTH_SCHEMA)},
)
def create_strength():
    require(Roles.POLICY_ADMINS)
    tenant_id = current_caller().tenant.id
    row = strength_service.create(tenant_id, read_json())
    created = graph_strength(strengths.find(tenant_id, row.id))
    audit("Add authentication strength", TARGET, row.id, after=created)
    db.session.commit()
    return {"@odata.context": odata_context("policies/authenticationStrengthPolicies/$entity"), **created}, 201


@operation(
    BASE + "/{strength_id}",
    ["GET"],
    summary="Get an authentication strength",
    responses={"200": ("The strength", STRENGTH_SCHEMA)},
)
def get_strength(strength_id):
    require(Roles.POLICY_READERS)
    found = strengths.find(current_caller().tenant.id, strength_id)
    if found is None:
        raise not_found(f"There is no authentication strength '{strength_id[:64]}'.")
    return graph_strength(found)


@operation(
    BASE + "/{strength_id}",
    ["PATCH"],
    summary="Rename or describe a custom strength",
    body={"type": "object", "properties": {"displayName": {"type": "string"}, "description": {"type": "string"}}},
    status=204,
    responses={"204": ("Changed", None)},
)
def patch_strength(strength_id):
    require(Roles.POLICY_ADMINS)
    row = _row(strength_id)
    strength_service.describe(row, read_json())
    audit("Update authentication strength", TARGET, row.id, after={"displayName": row.display_name})
    db.session.commit()
    return "", 204


@operation(
    BASE + "/{strength_id}/updateAllowedCombinations",
    ["POST"],
    summary="Replace a custom strength's allowed combinations",
    body={
        "type": "object",
        "required": ["allowedCombinations"],
        "properties": {"allowedCombinations": {"type": "array", "items": {"type": "string"}}},
    },
    responses={"200": ("The previous and current combinations", {"type": "object"})},
)
def update_combinations(strength_id):
    require(Roles.POLICY_ADMINS)
    row = _row(strength_id)
    before = strength_service.set_combinations(row, read_json().get("allowedCombinations"))
    combinations = list(row.allowed_combinations)
    audit(
        "Update authentication strength combinations",
        TARGET,
        row.id,
        before={"allowedCombinations": before},
        after={"allowedCombinations": combinations},
    )
    db.session.commit()
    return {
        "@odata.context": odata_context("microsoft.graph.updateAllowedCombinationsResult"),
        "previousCombinations": before,
        "currentCombinations": combinations,
        "additionalInformation": None,
        "conditionalAccessReferences": [],
    }


@operation(
    BASE + "/{strength_id}",
    ["DELETE"],
    summary="Delete a custom strength (not while an app requires it)",
    status=204,
    responses={"204": ("Deleted", None), "409": ("In use", None)},
)
def delete_strength(strength_id):
    require(Roles.POLICY_ADMINS)
    row = _row(strength_id)
    name = row.display_name
    strength_service.delete(row)
    audit("Delete authentication strength", TARGET, strength_id, before={"displayName": name})
    db.session.commit()
    return "", 204


@operation(
    BASE + "/{strength_id}/combinationConfigurations",
    ["GET"],
    summary="List a strength's FIDO2 AAGUID limits",
    responses={"200": ("Configurations", {"type": "object"})},
)
def list_combination_configs(strength_id):
    require(Roles.POLICY_READERS)
    found = strengths.find(current_caller().tenant.id, strength_id)
    if found is None:
        raise not_found(f"There is no authentication strength '{strength_id[:64]}'.")
    return {"value": [graph_config(c) for c in found.combination_configurations]}


@operation(
    BASE + "/{strength_id}/combinationConfigurations",
    ["POST"],
    summary="Limit the strength's fido2 combination to some AAGUIDs",
    body=CONFIG_SCHEMA,
    status=201,
    responses={"201": ("The configuration", CONFIG_SCHEMA)},
)
def add_combination_config(strength_id):
    require(Roles.POLICY_ADMINS)
    row = _row(strength_id)
    config = strength_service.add_limit(row, read_json())
    audit("Add authentication strength combination configuration", TARGET, row.id, after=config)
    db.session.commit()
    return graph_config(config), 201


@operation(
    BASE + "/{strength_id}/combinationConfigurations/{config_id}",
    ["DELETE"],
    summary="Remove a FIDO2 AAGUID limit",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_combination_config(strength_id, config_id):
    require(Roles.POLICY_ADMINS)
    row = _row(strength_id)
    strength_service.remove_limit(row, config_id)
    audit("Delete authentication strength combination configuration", TARGET, row.id, before={"id": config_id})
    db.session.commit()
    return "", 204
