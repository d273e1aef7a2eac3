"""Graph-style resources of the MFA settings. Where Graph has the resource (named locations, risk detections,
risky users, reportSuspiciousActivitySettings) its path and property names are used; the rest of Entra's
MFA settings page has no Graph API, so it lives under /policies/mfaSettings in the same style."""

from .. import clock
from ..directory.models import Roles, User
from ..extensions import db
from ..kit.graph import audit, bad_request, current_caller, not_found, odata_context, operation, read_json, target_user
from ..methods import rbac
from ..policy.api import require
from . import blocks, locations, remember, risk, settings
from .models import MfaBlock, NamedLocation

SECTION_SCHEMA = {"type": "object"}
LOCATION_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "displayName": {"type": "string"},
        "isTrusted": {"type": "boolean"},
        "ipRanges": {"type": "array", "items": {"type": "object"}},
    },
}
BLOCK_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "userPrincipalName": {"type": "string"},
        "reason": {"type": "string"},
        "blockedDateTime": {"type": "string"},
        "blockedBy": {"type": "string"},
        "expirationDateTime": {"type": "string"},
        "isActive": {"type": "boolean"},
    },
}


def _tenant_id() -> str:
    return current_caller().tenant.id


def _actor_name() -> str:
    caller = current_caller()
    return caller.user.upn if not caller.is_app else f"app {caller.client_id}"


# --- settings sections --------------------------------------------------------------------------------


@operation(
    "/policies/mfaSettings",
    ["GET"],
    summary="All MFA settings of the tenant",
    responses={"200": ("Every section", {"type": "object"})},
)
def get_all_settings():
    require(Roles.POLICY_READERS)
    return {"id": "mfaSettings", **{name: settings.get(_tenant_id(), name) for name in settings.SECTIONS}}


def _section(name: str) -> str:
    if name not in settings.SECTIONS:
        raise not_found(f"There is no MFA settings section '{name[:64]}'. Sections: {', '.join(settings.SECTIONS)}.")
    return name


@operation(
    "/policies/mfaSettings/{section}",
    ["GET"],
    summary="One section of the MFA settings "
    "(accountLockout, fraudAlert, reportSuspiciousActivity, notifications, trustedIps, verificationMethods, "
    "rememberMfa, riskPolicy)",
    responses={"200": ("The section", SECTION_SCHEMA)},
)
def get_section(section):
    require(Roles.POLICY_READERS)
    return settings.get(_tenant_id(), _section(section))


def patch_section(name: str, body: dict):
    if not isinstance(body, dict):
        raise bad_request(f"The {settings.SECTIONS[name].title} settings must be a JSON object.")
    before, after = settings.update(_tenant_id(), name, body)
    audit(f"Update MFA settings: {settings.SECTIONS[name].title}", "mfaSettings", name, before, after)
    db.session.commit()


@operation(
    "/policies/mfaSettings/{section}",
    ["PATCH"],
    summary="Change one section of the MFA settings",
    body=SECTION_SCHEMA,
    status=204,
    responses={"204": ("Changed", None)},
)
def update_section(section):
    require(Roles.POLICY_ADMINS)
    patch_section(_section(section), read_json())
    return "", 204


@operation(
    "/policies/authenticationMethodsPolicy",
    ["PATCH"],
    summary="Change the policy's reportSuspiciousActivitySettings (state enabled/disabled/default, includeTarget)",
    body={"type": "object", "properties": {"reportSuspiciousActivitySettings": {"type": "object"}}},
    status=204,
    responses={"204": ("Changed", None)},
)
def patch_methods_policy():
    require(Roles.POLICY_ADMINS)
    body = read_json()
    unknown = set(body) - {"reportSuspiciousActivitySettings", "@odata.type", "id"}
    if unknown:
        raise bad_request(
            f"Property '{sorted(unknown)[0]}' cannot be changed here; change each method's configuration instead."
        )
    if "reportSuspiciousActivitySettings" in body:
        patch_section("reportSuspiciousActivity", body["reportSuspiciousActivitySettings"])
    return "", 204


# --- blocked users ----------------------------------------------------------------------------------------


def graph_block(row: MfaBlock) -> dict:
    return {
        "id": row.id,
        "userId": row.user_id,
        "userPrincipalName": row.upn,
        "reason": row.reason,
        "blockedDateTime": clock.iso(row.blocked_at),
        "blockedBy": row.blocked_by,
        "expirationDateTime": clock.iso(row.expires_at),
        "isActive": row.is_active(),
        "unblockedDateTime": clock.iso(row.unblocked_at),
        "unblockedBy": row.unblocked_by,
        "unblockReason": row.unblock_reason,
    }


@operation(
    "/policies/mfaSettings/blockedUsers",
    ["GET"],
    summary="Users blocked from MFA (who, when, why, by whom, expiry)",
    responses={
        "200": ("Blocks", {"type": "object", "properties": {"value": {"type": "array", "items": BLOCK_SCHEMA}}})
    },
)
def list_blocks():
    require(Roles.POLICY_READERS)
    return {"value": [graph_block(b) for b in blocks.listing(_tenant_id())]}


@operation(
    "/policies/mfaSettings/blockedUsers",
    ["POST"],
    summary="Block a user from MFA for 90 days",
    body={
        "type": "object",
        "required": ["userPrincipalName", "reason"],
        "properties": {"userPrincipalName": {"type": "string"}, "reason": {"type": "string"}},
    },
    status=201,
    responses={"201": ("The block", BLOCK_SCHEMA)},
)
def block_user():
    require(Roles.POLICY_ADMINS)
    body = read_json()
    upn = body.get("userPrincipalName")
    if not isinstance(upn, str) or not isinstance(body.get("reason"), str):
        raise bad_request("Properties 'userPrincipalName' and 'reason' are required.")
    user = target_user(upn[:320])
    if not blocks.may_block(current_caller(), user):
        from ..kit.graph import forbidden

        raise forbidden(blocks.ADMIN_TARGET)
    row = blocks.block(user, body["reason"], _actor_name())  # an existing block: AlreadyBlocked, a 409
    audit("Block user from MFA", "user", user.id, after=graph_block(row))
    db.session.commit()
    return graph_block(row), 201


@operation(
    "/policies/mfaSettings/blockedUsers/{block_id}/unblock",
    ["POST"],
    summary="Unblock (a reason is required)",
    body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
    responses={"200": ("The block, ended", BLOCK_SCHEMA)},
)
def unblock_user(block_id):
    require(Roles.POLICY_ADMINS)
    row = db.session.get(MfaBlock, block_id[:36])
    if row is None or row.tenant_id != _tenant_id():
        raise not_found("There is no such block.")
    reason = read_json().get("reason")
    blocks.unblock(row, reason if isinstance(reason, str) else "", _actor_name())
    audit("Unblock user from MFA", "user", row.user_id, after=graph_block(row))
    db.session.commit()
    return graph_block(row)


@operation(
    "/users/{user_ref}/revokeMfaSessions",
    ["POST"],
    summary="Forget every device on which the user chose to remember MFA",
    status=204,
    responses={"204": ("Revoked", None)},
)
def revoke_mfa_sessions(user_ref):
    user = target_user(user_ref)
    rbac.authorize(
        current_caller(), user, "delete", self_service=True
    )  # the methods' target rule, as the console's button asks it (an administrator needs a privileged role)
    remember.revoke(user)
    audit("Revoke MFA sessions", "user", user.id)
    db.session.commit()
    return "", 204


# --- identity protection ----------------------------------------------------------------------------------


@operation(
    "/identityProtection/riskDetections",
    ["GET"],
    summary="Risk detections (user-reported suspicious activity)",
    responses={"200": ("Detections", {"type": "object"})},
)
def list_detections():
    require(Roles.POLICY_READERS)
    found = []
    for d in risk.detections(_tenant_id()):
        user = db.session.get(User, d.user_id)
        found.append(
            {
                "id": d.id,
                "riskEventType": d.risk_event_type,
                "riskLevel": d.risk_level,
                "riskState": "atRisk",
                "source": d.source,
                "detectionTimingType": "realtime",
                "ipAddress": d.ip_address,
                "activityDateTime": clock.iso(d.detected_at),
                "detectedDateTime": clock.iso(d.detected_at),
                "userId": d.user_id,
                "userPrincipalName": user.upn if user else None,
                "userDisplayName": user.display_name if user else None,
            }
        )
    return {"@odata.context": odata_context("identityProtection/riskDetections"), "value": found}


@operation(
    "/identityProtection/riskyUsers",
    ["GET"],
    summary="Users at risk, and users whose risk was dismissed",
    responses={"200": ("Risky users", {"type": "object"})},
)
def list_risky_users():
    require(Roles.POLICY_READERS)
    found = []
    for state in risk.risky_users(_tenant_id()):
        user = db.session.get(User, state.user_id)
        found.append(
            {
                "id": state.user_id,
                "userPrincipalName": user.upn,
                "userDisplayName": user.display_name,
                "riskLevel": state.risk_level,
                "riskState": state.risk_state,
                "riskDetail": "adminDismissedAllRiskForUser" if state.risk_state == "dismissed" else "none",
                "riskLastUpdatedDateTime": clock.iso(state.risk_updated_at),
                "isDeleted": False,
                "isProcessing": False,
            }
        )
    return {"@odata.context": odata_context("identityProtection/riskyUsers"), "value": found}


@operation(
    "/identityProtection/riskyUsers/dismiss",
    ["POST"],
    summary="Dismiss the risk of users",
    body={
        "type": "object",
        "required": ["userIds"],
        "properties": {"userIds": {"type": "array", "items": {"type": "string"}}},
    },
    status=204,
    responses={"204": ("Dismissed", None)},
)
def dismiss_risky_users():
    require(Roles.POLICY_ADMINS)
    ids = read_json().get("userIds")
    if not isinstance(ids, list) or not ids or len(ids) > 60 or not all(isinstance(i, str) for i in ids):
        raise bad_request("Property 'userIds' must be a list of 1 to 60 user ids.")
    for user_id in ids:
        user = target_user(user_id[:320])
        if risk.dismiss(user):
            audit("Dismiss user risk", "user", user.id)
    db.session.commit()
    return "", 204


# --- named locations ----------------------------------------------------------------------------------------

NAMED = "/identity/conditionalAccess/namedLocations"


def graph_location(location: NamedLocation) -> dict:
    def cidr(text):
        kind = "iPv6CidrRange" if ":" in text else "iPv4CidrRange"
        return {"@odata.type": f"#microsoft.graph.{kind}", "cidrAddress": text}

    return {
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "id": location.id,
        "displayName": location.display_name,
        "createdDateTime": clock.iso(location.created_at),
        "modifiedDateTime": clock.iso(location.modified_at),
        "isTrusted": location.is_trusted,
        "ipRanges": [cidr(c) for c in location.ip_ranges],
    }


@operation(NAMED, ["GET"], summary="List named locations", responses={"200": ("Locations", {"type": "object"})})
def list_locations():
    require(Roles.POLICY_READERS)
    return {
        "@odata.context": odata_context("identity/conditionalAccess/namedLocations"),
        "value": [graph_location(n) for n in locations.named_locations(_tenant_id())],
    }


@operation(
    NAMED,
    ["POST"],
    summary="Create an IP named location (IPv4 and IPv6)",
    body=LOCATION_SCHEMA,
    status=201,
    responses={"201": ("The location", LOCATION_SCHEMA)},
)
def create_location():
    require(Roles.POLICY_ADMINS)
    location = locations.create(_tenant_id(), read_json())
    audit("Add named location", "namedLocation", location.id, after=graph_location(location))
    db.session.commit()
    return graph_location(location), 201


def _location(location_id: str) -> NamedLocation:
    location = locations.find(_tenant_id(), location_id)
    if location is None:
        raise not_found("There is no such named location.")
    return location


@operation(
    NAMED + "/{location_id}",
    ["GET"],
    summary="Get a named location",
    responses={"200": ("The location", LOCATION_SCHEMA)},
)
def get_location(location_id):
    require(Roles.POLICY_READERS)
    return graph_location(_location(location_id))


@operation(
    NAMED + "/{location_id}",
    ["PATCH"],
    summary="Change a named location",
    body=LOCATION_SCHEMA,
    status=204,
    responses={"204": ("Changed", None)},
)
def patch_location(location_id):
    require(Roles.POLICY_ADMINS)
    location = _location(location_id)
    before = graph_location(location)
    locations.apply(location, read_json(), creating=False)
    audit("Update named location", "namedLocation", location.id, before=before, after=graph_location(location))
    db.session.commit()
    return "", 204


@operation(
    NAMED + "/{location_id}",
    ["DELETE"],
    summary="Delete a named location",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_location(location_id):
    require(Roles.POLICY_ADMINS)
    location = _location(location_id)
    audit("Delete named location", "namedLocation", location.id, before=graph_location(location))
    db.session.delete(location)
    db.session.commit()
    return "", 204
