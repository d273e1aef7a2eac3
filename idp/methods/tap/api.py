"""Graph: /users/{id}/authentication/temporaryAccessPassMethods."""

from ... import clock
from ...audit import record_admin_change
from ...extensions import db
from ...kit.graph import current_caller, not_found, odata_context, operation, read_json, target_user
from . import service
from .models import TemporaryAccessPass

BASE = "/users/{user_ref}/authentication/temporaryAccessPassMethods"
TAP_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "temporaryAccessPass": {"type": "string"},
        "createdDateTime": {"type": "string"},
        "startDateTime": {"type": "string"},
        "lifetimeInMinutes": {"type": "integer"},
        "isUsableOnce": {"type": "boolean"},
        "isUsable": {"type": "boolean"},
        "methodUsabilityReason": {"type": "string"},
    },
}
CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "startDateTime": {"type": "string"},
        "lifetimeInMinutes": {"type": "integer"},
        "isUsableOnce": {"type": "boolean"},
    },
}


def graph_tap(tap: TemporaryAccessPass, user, code: str | None = None) -> dict:
    usable, reason = service.usability(tap, user)
    body = {
        "id": tap.id,
        "createdDateTime": clock.iso(tap.created_at),
        "startDateTime": clock.iso(tap.start_at),
        "lifetimeInMinutes": tap.lifetime_minutes,
        "isUsableOnce": tap.is_usable_once,
        "isUsable": usable,
        "methodUsabilityReason": reason,
    }
    if code is not None:
        body = {"id": tap.id, "temporaryAccessPass": code, **{k: v for k, v in body.items() if k != "id"}}
    return body


def _authorized_target(user_ref: str, action: str):
    user = target_user(user_ref)
    service.authorize(current_caller(), user, action)
    return user


@operation(
    BASE,
    ["POST"],
    summary="Create a Temporary Access Pass (replaces any existing one)",
    body=CREATE_SCHEMA,
    status=201,
    responses={"201": ("The pass, with its code (shown only here)", TAP_SCHEMA)},
)
def create_tap(user_ref):
    user = _authorized_target(user_ref, "create")
    tap, code = service.create_from(user, current_caller().actor[0], read_json())
    after = graph_tap(tap, user)
    record_admin_change(
        "Admin registered temporary access pass method for user", "user", user.id, after=after, tenant_id=user.tenant_id
    )
    db.session.commit()
    context = odata_context(f"users('{user.id}')/authentication/temporaryAccessPassMethods/$entity")
    return {"@odata.context": context, **graph_tap(tap, user, code)}, 201


@operation(
    BASE,
    ["GET"],
    summary="List the user's Temporary Access Pass",
    responses={"200": ("The passes", {"type": "object"})},
)
def list_taps(user_ref):
    user = _authorized_target(user_ref, "read")
    tap = service.live_pass(user.id)
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/temporaryAccessPassMethods"),
        "value": [graph_tap(tap, user)] if tap else [],
    }


def _tap_of(user, method_id: str) -> TemporaryAccessPass:
    tap = service.live_pass(user.id)
    if tap is None or tap.id != method_id:
        raise not_found(f"The Temporary Access Pass '{method_id[:64]}' does not exist for this user.")
    return tap


@operation(
    BASE + "/{method_id}",
    ["GET"],
    summary="Get the user's Temporary Access Pass (never the code)",
    responses={"200": ("The pass", TAP_SCHEMA)},
)
def get_tap(user_ref, method_id):
    user = _authorized_target(user_ref, "read")
    tap = _tap_of(user, method_id)
    context = odata_context(f"users('{user.id}')/authentication/temporaryAccessPassMethods/$entity")
    return {"@odata.context": context, **graph_tap(tap, user)}


@operation(
    BASE + "/{method_id}",
    ["DELETE"],
    summary="Delete the user's Temporary Access Pass",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_tap(user_ref, method_id):
    user = _authorized_target(user_ref, "delete")
    tap = _tap_of(user, method_id)
    before = graph_tap(tap, user)
    service.remove(tap)
    record_admin_change(
        "Admin deleted temporary access pass method for user", "user", user.id, before=before, tenant_id=user.tenant_id
    )
    db.session.commit()
    return "", 204


def overview(user) -> list[dict]:
    """The user's pass for /authentication/methods and the registration report."""
    tap = service.live_pass(user.id)
    return (
        [{"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod", **graph_tap(tap, user)}]
        if tap
        else []
    )
