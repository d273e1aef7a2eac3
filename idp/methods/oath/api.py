"""Graph: a user's softwareOathMethods and hardwareOathMethods (assign, activate); the token inventory is
inventory_api.py."""

from ... import clock
from ...extensions import db
from ...kit.graph import audit, bad_request, current_caller, not_found, odata_context, operation, read_json, target_user
from .. import rbac
from . import service
from .inventory_api import device_of, graph_device
from .models import OathMethod

SOFTWARE = "/users/{user_ref}/authentication/softwareOathMethods"
HARDWARE = "/users/{user_ref}/authentication/hardwareOathMethods"


# --- a user's methods -------------------------------------------------------------------------------


def _authorized(user_ref: str, action: str) -> tuple:
    user = target_user(user_ref)
    grant = rbac.authorize(current_caller(), user, action, self_service=True)
    return user, grant


def _method(user, method_id: str, kind: str) -> OathMethod:
    method = db.session.get(OathMethod, method_id)
    if method is None or method.user_id != user.id or method.kind != kind:
        raise not_found(f"There is no such {kind} OATH method for this user.")
    return method


def graph_software(method: OathMethod) -> dict:
    return {"id": method.id, "secretKey": None, "createdDateTime": clock.iso(method.created_at)}


@operation(
    SOFTWARE,
    ["GET"],
    summary="List the user's authenticator app (software OATH) methods",
    responses={"200": ("Methods", {"type": "object"})},
)
def list_software(user_ref):
    user, _ = _authorized(user_ref, "read")
    methods = [m for m in service.methods_of(user.id, activated_only=True) if m.kind == "software"]
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/softwareOathMethods"),
        "value": [graph_software(m) for m in methods],
    }


@operation(
    SOFTWARE + "/{method_id}",
    ["GET"],
    summary="Get a software OATH method (never its secret)",
    responses={"200": ("The method", {"type": "object"})},
)
def get_software(user_ref, method_id):
    user, _ = _authorized(user_ref, "read")
    return graph_software(_method(user, method_id, "software"))


@operation(
    SOFTWARE + "/{method_id}",
    ["DELETE"],
    summary="Delete a software OATH method",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_software(user_ref, method_id):
    user, _ = _authorized(user_ref, "delete")
    method = _method(user, method_id, "software")
    service.remove(method)
    audit("Delete software OATH method", "user", user.id, before=graph_software(method))
    db.session.commit()
    return "", 204


def graph_hardware(method: OathMethod, grant: str) -> dict:
    device = method.device
    limited = {"id": device.id, "displayName": device.display_name}  # what an Authentication Administrator sees
    return {
        "id": method.id,
        "displayName": method.display_name,
        "createdDateTime": clock.iso(method.created_at),
        "device": limited if grant == "admin" else graph_device(device),
    }


@operation(
    HARDWARE,
    ["POST"],
    summary="Assign a hardware token to the user",
    body={"type": "object", "required": ["device"], "properties": {"device": {"type": "object"}}},
    status=201,
    responses={"201": ("The method", {"type": "object"}), "409": ("Already assigned", None)},
)
def assign_hardware(user_ref):
    user, grant = _authorized(user_ref, "create")
    body = read_json()
    device_ref = body.get("device")
    if not isinstance(device_ref, dict) or not isinstance(device_ref.get("id"), str):
        raise bad_request("Property 'device' must be an object with the token's 'id'.")
    device = device_of(device_ref["id"])
    method = service.assign(device, user)
    audit("Assign hardware OATH token", "user", user.id, after={"deviceId": device.id})
    db.session.commit()
    return graph_hardware(method, grant), 201


@operation(
    HARDWARE,
    ["GET"],
    summary="List the user's hardware OATH methods",
    responses={"200": ("Methods", {"type": "object"})},
)
def list_hardware(user_ref):
    user, grant = _authorized(user_ref, "read")
    methods = [m for m in service.methods_of(user.id) if m.kind == "hardware"]
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/hardwareOathMethods"),
        "value": [graph_hardware(m, grant) for m in methods],
    }


@operation(
    HARDWARE + "/{method_id}",
    ["GET"],
    summary="Get a hardware OATH method",
    responses={"200": ("The method", {"type": "object"})},
)
def get_hardware(user_ref, method_id):
    user, grant = _authorized(user_ref, "read")
    return graph_hardware(_method(user, method_id, "hardware"), grant)


@operation(
    HARDWARE + "/{method_id}",
    ["DELETE"],
    summary="Unassign the token (it returns to the inventory)",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_hardware(user_ref, method_id):
    user, _ = _authorized(user_ref, "delete")
    method = _method(user, method_id, "hardware")
    device_id = method.device_id
    service.remove(method)
    audit("Unassign hardware OATH token", "user", user.id, before={"deviceId": device_id})
    db.session.commit()
    return "", 204


@operation(
    HARDWARE + "/{method_id}/activate",
    ["POST"],
    summary="Activate an assigned token with its current code",
    body={
        "type": "object",
        "required": ["verificationCode"],
        "properties": {"verificationCode": {"type": "string"}, "displayName": {"type": "string"}},
    },
    status=204,
    responses={"204": ("Activated", None)},
)
def activate_hardware(user_ref, method_id):
    user, _ = _authorized(user_ref, "create")
    method = _method(user, method_id, "hardware")
    body = read_json()
    code = body.get("verificationCode")
    if not isinstance(code, str):
        raise bad_request("Property 'verificationCode' is required.")
    name = body.get("displayName")
    if name is not None and (not isinstance(name, str) or len(name) > service.MAX_NAME):
        raise bad_request(f"Property 'displayName' must be a string of at most {service.MAX_NAME} characters.")
    result = service.activate(method, code.strip(), confirm_far=False)  # one code, as Entra's activate takes
    if result.ok and name is not None:
        method.display_name = name  # only a token that activated is renamed
    db.session.commit()
    if not result.ok:
        raise bad_request(result.message)
    audit("Activate hardware OATH token", "user", user.id, after={"deviceId": method.device_id})
    db.session.commit()
    return "", 204


def overview(user) -> list[dict]:
    """The user's activated OATH methods for /authentication/methods and the registration report."""
    found = []
    for method in service.methods_of(user.id, activated_only=True):
        if method.kind == "software":
            found.append({"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", **graph_software(method)})
        else:
            found.append(
                {"@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethod", **graph_hardware(method, "admin")}
            )
    return found
