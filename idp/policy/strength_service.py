"""Changes to custom authentication strengths: the one set of rules for the Graph API and the console.
Errors carry the HTTP status Graph answers with and the property at fault (the console marks that field)."""

import uuid

from sqlalchemy import select

from ..errors import ServiceError
from .. import clock
from ..extensions import db
from ..methods.passkey.policy import normal_aaguid
from ..oidc.models import Client
from . import strengths
from .strengths import AuthenticationStrength


class StrengthError(ServiceError, ValueError):
    def __init__(
        self,
        message: str,
        status: int = 400,
        field: str | None = None,
        reason_id: str | None = None,
        values: dict | None = None,
    ):
        super().__init__(message, status, target=field, reason_id=reason_id, values=values)


def custom_row(tenant_id: str, strength_id: str) -> AuthenticationStrength:
    """The tenant's custom strength to change; built-in ones are refused."""
    if strength_id in strengths.BUILT_IN:
        raise StrengthError("Built-in authentication strengths cannot be changed.", reason_id="strength.built_in")
    row = db.session.get(AuthenticationStrength, strength_id[:36])
    if row is None or row.tenant_id != tenant_id:
        raise StrengthError(f"There is no authentication strength '{strength_id[:64]}'.", 404)
    return row


def combinations(value) -> list[str]:
    checked = strengths.check_combinations(value)
    if isinstance(checked, str):
        empty = not isinstance(value, list) or not value or len(value) > 50
        raise StrengthError(
            checked,
            field="allowedCombinations",
            reason_id="strength.no_combination" if empty else "strength.bad_combination",
        )
    return checked


def fido2_limit(body, allowed: list[str]) -> dict:
    """A fido2CombinationConfiguration: the passkey models (AAGUIDs) the fido2 combination accepts."""
    if not isinstance(body, dict):
        raise StrengthError("A combination configuration must be an object.", field="allowedAAGUIDs")
    odata_type = str(body.get("@odata.type", "#microsoft.graph.fido2CombinationConfiguration")).lstrip("#")
    if odata_type != "microsoft.graph.fido2CombinationConfiguration":
        raise StrengthError(
            "Only fido2CombinationConfiguration (allowed AAGUIDs) is supported.", field="allowedAAGUIDs"
        )
    if body.get("appliesToCombinations") != ["fido2"] or "fido2" not in allowed:
        raise StrengthError(
            "Property 'appliesToCombinations' must be [\"fido2\"], and the strength must allow fido2.",
            field="allowedAAGUIDs",
            reason_id="strength.fido2_needed",
        )
    aaguids = body.get("allowedAAGUIDs", [])
    if not isinstance(aaguids, list) or not aaguids or any(normal_aaguid(a) is None for a in aaguids):
        raise StrengthError(
            "Property 'allowedAAGUIDs' must be a non-empty list of AAGUIDs.",
            field="allowedAAGUIDs",
            reason_id="strength.bad_aaguid",
        )
    return {
        "id": str(uuid.uuid4()),
        "appliesToCombinations": ["fido2"],
        "allowedAAGUIDs": [normal_aaguid(a) for a in aaguids],
    }


def _name(tenant_id: str, name, exclude: str | None = None) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise StrengthError(
            "Property 'displayName' is required (at most 256 characters).",
            field="displayName",
            reason_id="strength.name_required",
        )
    taken = {s.display_name.lower() for s in strengths.all_for(tenant_id) if s.id != exclude}
    if name.strip().lower() in taken:
        raise StrengthError(
            f"An authentication strength named '{name.strip()[:64]}' already exists.",
            409,
            field="displayName",
            reason_id="strength.name_taken",
            values={"name": name.strip()[:64]},
        )
    return name.strip()


def create(tenant_id: str, body: dict) -> AuthenticationStrength:
    """A new custom strength from a Graph body (displayName, description, allowedCombinations,
    combinationConfigurations)."""
    name = _name(tenant_id, body.get("displayName"))
    allowed = combinations(body.get("allowedCombinations"))
    configs = body.get("combinationConfigurations", [])
    if not isinstance(configs, list):
        raise StrengthError("Property 'combinationConfigurations' must be a list.", field="allowedAAGUIDs")
    description = body.get("description")
    row = AuthenticationStrength(
        tenant_id=tenant_id,
        display_name=name,
        description=description if isinstance(description, str) else None,
        allowed_combinations=allowed,
        combination_configurations=[fido2_limit(c, allowed) for c in configs],
    )
    db.session.add(row)
    db.session.flush()
    return row


def describe(row: AuthenticationStrength, body: dict) -> None:
    """Rename or describe (PATCH semantics); combinations change through `set_combinations`."""
    unknown = set(body) - {"displayName", "description", "@odata.type"}
    if unknown:
        raise StrengthError(f"Property '{sorted(unknown)[0]}' cannot be changed here (use updateAllowedCombinations).")
    if "displayName" in body:
        if not isinstance(body["displayName"], str) or not body["displayName"].strip():
            raise StrengthError(
                "Property 'displayName' must be a non-empty string.",
                field="displayName",
                reason_id="strength.name_required",
            )
        row.display_name = _name(row.tenant_id, body["displayName"], exclude=row.id)[:256]
    if "description" in body:
        row.description = body["description"] if isinstance(body["description"], str) else None
    row.modified_at = clock.now()


def set_combinations(row: AuthenticationStrength, value) -> list[str]:
    """Replace the allowed combinations (limits of combinations no longer allowed go); the previous list."""
    allowed = combinations(value)
    before = list(row.allowed_combinations)
    row.allowed_combinations = allowed
    row.combination_configurations = [
        c for c in row.combination_configurations or [] if set(c["appliesToCombinations"]) <= set(allowed)
    ]
    row.modified_at = clock.now()
    return before


def add_limit(row: AuthenticationStrength, body) -> dict:
    if row.combination_configurations:
        raise StrengthError(
            "This strength already limits fido2 to a list of AAGUIDs; delete that configuration first.",
            409,
            field="allowedAAGUIDs",
        )
    config = fido2_limit(body, row.allowed_combinations)
    row.combination_configurations = [config]
    row.modified_at = clock.now()
    return config


def remove_limit(row: AuthenticationStrength, config_id: str) -> None:
    kept = [c for c in row.combination_configurations or [] if c["id"] != config_id]
    if len(kept) == len(row.combination_configurations or []):
        raise StrengthError("There is no such combination configuration.", 404)
    row.combination_configurations = kept
    row.modified_at = clock.now()


def delete(row: AuthenticationStrength) -> None:
    """Delete a custom strength, unless an application requires it."""
    if db.session.scalar(select(Client.id).where(Client.required_strength_id == row.id).limit(1)):
        raise StrengthError(
            "An application requires this authentication strength; change the application first.",
            409,
            reason_id="strength.in_use",
        )
    db.session.delete(row)
    db.session.flush()
