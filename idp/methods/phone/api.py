"""Graph: /users/{id}/authentication/phoneMethods (list, add, get, update, delete, enable/disableSmsSignIn)."""

from ... import clock
from ...extensions import db
from ...kit.graph import audit, bad_request, current_caller, not_found, odata_context, operation, read_json, target_user
from .. import rbac
from . import service
from .models import PhoneMethod

PHONES = "/users/{user_ref}/authentication/phoneMethods"
PHONE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "phoneNumber": {"type": "string"},
        "phoneType": {"type": "string"},
        "smsSignInState": {"type": "string"},
    },
}
NEW_PHONE_SCHEMA = {
    "type": "object",
    "required": ["phoneNumber", "phoneType"],
    "properties": {"phoneNumber": {"type": "string"}, "phoneType": {"type": "string"}},
}


def _authorized(user_ref: str, action: str):
    user = target_user(user_ref)
    rbac.authorize(current_caller(), user, action, self_service=True)
    return user


def graph_phone(user, row: PhoneMethod) -> dict:
    from .numbers import graph_format

    return {
        "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
        "id": service.GRAPH_IDS[row.phone_type],
        "phoneNumber": graph_format(row.number, row.extension),
        "phoneType": row.phone_type,
        "smsSignInState": service.sms_sign_in_state(user, row),
        "createdDateTime": clock.iso(row.created_at),
        "lastUsedDateTime": clock.iso(row.last_used_at),
    }


def _phone(user, method_id: str) -> PhoneMethod:
    row = service.phones_of(user.id).get(service.TYPE_OF_ID.get(method_id, ""))
    if row is None:
        raise not_found(f"There is no phone method '{method_id[:64]}' for this user.")
    return row


@operation(PHONES, ["GET"], summary="List the user's phone methods", responses={"200": ("Phones", {"type": "object"})})
def list_phones(user_ref):
    user = _authorized(user_ref, "read")
    phones = service.phones_of(user.id)
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/phoneMethods"),
        "value": [graph_phone(user, phones[t]) for t in service.TYPES if t in phones],
    }


@operation(
    PHONES,
    ["POST"],
    summary="Add a phone method (mobile, alternateMobile or office)",
    body=NEW_PHONE_SCHEMA,
    status=201,
    responses={"201": ("The phone", PHONE_SCHEMA), "409": ("That type is registered", None)},
)
def add_phone(user_ref):
    user = _authorized(user_ref, "create")
    body = read_json()
    unknown = set(body) - {"phoneNumber", "phoneType", "@odata.type", "id"}
    if unknown:
        raise bad_request(f"Property '{sorted(unknown)[0]}' is not valid for a phone method.")
    row = service.add(user, body.get("phoneType"), body.get("phoneNumber"))
    audit("Add phone authentication method", "user", user.id, after=graph_phone(user, row))
    db.session.commit()
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/phoneMethods/$entity"),
        **graph_phone(user, row),
    }, 201


@operation(
    PHONES + "/{method_id}", ["GET"], summary="Get a phone method", responses={"200": ("The phone", PHONE_SCHEMA)}
)
def get_phone(user_ref, method_id):
    user = _authorized(user_ref, "read")
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/phoneMethods/$entity"),
        **graph_phone(user, _phone(user, method_id)),
    }


@operation(
    PHONES + "/{method_id}",
    ["PATCH"],
    summary="Change a phone method's number",
    body={"type": "object", "properties": {"phoneNumber": {"type": "string"}, "phoneType": {"type": "string"}}},
    status=204,
    responses={"204": ("Changed", None)},
)
def update_phone(user_ref, method_id):
    user = _authorized(user_ref, "create")
    row = _phone(user, method_id)
    body = read_json()
    unknown = set(body) - {"phoneNumber", "phoneType", "@odata.type", "id"}
    if unknown:
        raise bad_request(f"Property '{sorted(unknown)[0]}' cannot be changed.")
    if "phoneType" in body and body["phoneType"] != row.phone_type:
        raise bad_request("Property 'phoneType' cannot be changed: delete this phone and add one of the other type.")
    before = graph_phone(user, row)
    if "phoneNumber" in body:
        service.change_number(row, body["phoneNumber"])
    audit("Update phone authentication method", "user", user.id, before, graph_phone(user, row))
    db.session.commit()
    return "", 204


@operation(
    PHONES + "/{method_id}",
    ["DELETE"],
    summary="Delete a phone method",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_phone(user_ref, method_id):
    user = _authorized(user_ref, "delete")
    row = _phone(user, method_id)
    before = graph_phone(user, row)
    service.remove(row)
    audit("Delete phone authentication method", "user", user.id, before=before)
    db.session.commit()
    return "", 204


def _sms_sign_in(user_ref, method_id, enabled: bool):
    user = _authorized(user_ref, "create")
    row = _phone(user, method_id)
    if row.phone_type != "mobile":
        raise bad_request("Only the mobile phone can be used for SMS sign-in.")
    if enabled and service.sms_sign_in_state(user, row) == "notAllowedByPolicy":
        raise bad_request("The authentication methods policy does not allow SMS sign-in for this user.")
    row.sms_sign_in = enabled
    audit(f"{'Enable' if enabled else 'Disable'} SMS sign-in", "user", user.id)
    db.session.commit()
    return "", 204


@operation(
    PHONES + "/{method_id}/enableSmsSignIn",
    ["POST"],
    summary="Turn on SMS sign-in for the mobile phone",
    status=204,
    responses={"204": ("Enabled", None)},
)
def enable_sms_sign_in(user_ref, method_id):
    return _sms_sign_in(user_ref, method_id, True)


@operation(
    PHONES + "/{method_id}/disableSmsSignIn",
    ["POST"],
    summary="Turn off SMS sign-in for the mobile phone",
    status=204,
    responses={"204": ("Disabled", None)},
)
def disable_sms_sign_in(user_ref, method_id):
    return _sms_sign_in(user_ref, method_id, False)


def overview(user) -> list[dict]:
    """The user's phones for /authentication/methods and the registration report."""
    return [graph_phone(user, row) for row in service.phones_of(user.id).values()]
