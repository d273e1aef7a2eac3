"""Graph: softwareOathMethods, hardwareOathMethods (assign, activate) and the hardware token inventory."""

import os
import uuid

from flask import Response, current_app, request, stream_with_context
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from ... import clock, urls
from ...directory.models import Roles
from ...extensions import db
from ...graph import audit, current_caller, operation, read_json
from ...graph.api import GraphError, bad_request, conflict, forbidden, not_found, odata_context
from ...graph.users import target_user
from .. import rbac
from . import importer, service
from .models import HardwareOathDevice, OathImportJob, OathMethod

DEVICES = "/directory/authenticationMethodDevices/hardwareOathDevices"
SOFTWARE = "/users/{user_ref}/authentication/softwareOathMethods"
HARDWARE = "/users/{user_ref}/authentication/hardwareOathMethods"
DEVICE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "serialNumber": {"type": "string"},
        "manufacturer": {"type": ["string", "null"]},
        "model": {"type": ["string", "null"]},
        "displayName": {"type": ["string", "null"]},
        "timeIntervalInSeconds": {"type": "integer"},
        "hashFunction": {"type": "string"},
        "status": {"type": "string"},
        "assignedTo": {"type": ["object", "null"]},
        "lastUsedDateTime": {"type": ["string", "null"]},
    },
}
NEW_DEVICE_SCHEMA = {
    "type": "object",
    "required": ["serialNumber", "secretKey", "timeIntervalInSeconds"],
    "properties": {
        "serialNumber": {"type": "string"},
        "secretKey": {"type": "string"},
        "timeIntervalInSeconds": {"type": "integer"},
        "hashFunction": {"type": "string"},
        "manufacturer": {"type": ["string", "null"], "maxLength": 256},
        "model": {"type": ["string", "null"], "maxLength": 256},
        "displayName": {"type": ["string", "null"], "maxLength": 256},
        "assignTo": {"type": "object", "properties": {"id": {"type": "string"}}},
    },
}


def _oath_error(error: service.OathError) -> GraphError:
    return GraphError(error.status, None, error.message)


# --- inventory --------------------------------------------------------------------------------------


def _inventory_access(writing: bool) -> None:
    caller = current_caller()
    if caller.is_app:
        wanted = (
            ("Policy.ReadWrite.AuthenticationMethod",)
            if writing
            else ("Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod")
        )
        if caller.has_permission(*wanted):
            return
    elif caller.roles & (Roles.POLICY_ADMINS if writing else Roles.POLICY_READERS) and caller.has_permission(
        "Policy.ReadWrite.AuthenticationMethod", *(() if writing else ("Policy.Read.All",))
    ):
        return
    raise forbidden()


def graph_device(device: HardwareOathDevice) -> dict:
    return {
        "id": device.id,
        "serialNumber": device.serial_number,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "displayName": device.display_name,
        "timeIntervalInSeconds": device.time_interval,
        "hashFunction": device.hash_function,
        "status": device.status,
        "assignedTo": {"id": device.user.id, "displayName": device.user.display_name} if device.user else None,
        "lastUsedDateTime": clock.iso(device.last_used_at),
    }


def _device(device_id: str) -> HardwareOathDevice:
    device = db.session.get(HardwareOathDevice, device_id)
    if device is None or device.tenant_id != current_caller().tenant.id:
        raise not_found(f"There is no hardware token '{device_id[:64]}'.")
    return device


@operation(
    DEVICES,
    ["POST"],
    summary="Add a hardware OATH token to the inventory",
    body=NEW_DEVICE_SCHEMA,
    status=201,
    responses={"201": ("The token (never its secret)", DEVICE_SCHEMA)},
)
def create_device():
    """Add a token; with `assignTo` (Graph beta), create it and assign it to that user in one request."""
    _inventory_access(writing=True)
    body = read_json()
    unknown = set(body) - set(NEW_DEVICE_SCHEMA["properties"]) - {"@odata.type"}
    if unknown:
        raise bad_request(f"Property '{min(unknown)}' is not valid for a hardware token.")
    owner = _assignee(body["assignTo"]) if "assignTo" in body else None
    try:
        device = service.create_device(
            current_caller().tenant.id,
            body.get("serialNumber"),
            body.get("secretKey"),
            body.get("timeIntervalInSeconds"),
            body.get("hashFunction", "hmacsha1"),
            body.get("manufacturer"),
            body.get("model"),
            body.get("displayName"),
        )
        if owner is not None:
            service.assign(device, owner)
    except service.OathError as error:
        raise _oath_error(error) from None
    audit("Add hardware OATH token", "hardwareOathDevice", device.id, after=graph_device(device))
    if owner is not None:
        audit("Assign hardware OATH token", "user", owner.id, after={"deviceId": device.id})
    db.session.commit()
    db.session.refresh(device)
    return {
        "@odata.context": odata_context("directory/authenticationMethodDevices/hardwareOathDevices/$entity"),
        **graph_device(device),
    }, 201


def _assignee(ref):
    """The user named by `assignTo`, when the caller may also assign methods to that user (as Entra requires:
    UserAuthenticationMethod.ReadWrite.All and an authentication administrator role for delegated callers)."""
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        raise bad_request("Property 'assignTo' must be an object with the user's 'id'.")
    user = target_user(ref["id"])
    try:
        rbac.authorize(current_caller(), user, "create", self_service=False)
    except rbac.MethodAccessError as error:
        raise GraphError(error.status, "accessDenied", error.message) from None
    return user


@operation(
    DEVICES,
    ["GET"],
    summary="List the hardware OATH token inventory",
    responses={"200": ("Tokens", {"type": "object"})},
)
def list_devices():
    _inventory_access(writing=False)
    devices = db.session.scalars(
        select(HardwareOathDevice)
        .where(HardwareOathDevice.tenant_id == current_caller().tenant.id)
        .order_by(HardwareOathDevice.serial_number)
        .limit(1000)
    )
    return {
        "@odata.context": odata_context("directory/authenticationMethodDevices/hardwareOathDevices"),
        "value": [graph_device(d) for d in devices],
    }


@operation(
    DEVICES + "/{device_id}",
    ["GET"],
    summary="Get a hardware OATH token",
    responses={"200": ("The token", DEVICE_SCHEMA)},
)
def get_device(device_id):
    _inventory_access(writing=False)
    return {
        "@odata.context": odata_context("directory/authenticationMethodDevices/hardwareOathDevices/$entity"),
        **graph_device(_device(device_id)),
    }


@operation(
    DEVICES + "/{device_id}",
    ["PATCH"],
    summary="Change a token's manufacturer, model or display name",
    body={
        "type": "object",
        "properties": {
            "manufacturer": {"type": "string"},
            "model": {"type": "string"},
            "displayName": {"type": "string"},
        },
    },
    status=204,
    responses={"204": ("Changed", None)},
)
def patch_device(device_id):
    _inventory_access(writing=True)
    device = _device(device_id)
    body = read_json()
    if "secretKey" in body:
        raise bad_request("The secret key of a hardware token cannot be changed.")
    before = graph_device(device)
    unknown = set(body) - set(service.NAME_FIELDS) - {"@odata.type"}
    if unknown:
        raise bad_request(f"Property '{min(unknown)}' cannot be changed.")
    try:
        names = service.validate_names(body)
    except service.OathError as error:
        raise _oath_error(error) from None
    for attribute, value in names.items():
        setattr(device, attribute, value)
    audit("Update hardware OATH token", "hardwareOathDevice", device.id, before, graph_device(device))
    db.session.commit()
    return "", 204


@operation(
    DEVICES + "/{device_id}",
    ["DELETE"],
    summary="Remove an unassigned token from the inventory",
    status=204,
    responses={"204": ("Deleted", None), "409": ("Still assigned", None)},
)
def delete_device(device_id):
    _inventory_access(writing=True)
    device = _device(device_id)
    if device.assigned_to:
        raise conflict("The token is assigned to a user: unassign it before deleting it.")
    audit("Delete hardware OATH token", "hardwareOathDevice", device.id, before=graph_device(device))
    db.session.delete(device)
    db.session.commit()
    return "", 204


def save_upload() -> str:
    """The uploaded CSV (text/csv body or multipart `file`), streamed to a file under instance/imports."""
    folder = os.path.join(current_app.instance_path, "imports")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{uuid.uuid4()}.csv")
    source = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    if request.mimetype not in ("text/csv", "multipart/form-data") or (
        request.mimetype == "multipart/form-data" and source is None
    ):
        raise bad_request("Send the CSV file as a text/csv body or as a multipart form field named 'file'.")
    stream = source.stream if source is not None else request.stream
    cap, written = current_app.config["IDP_OATH_CSV_MAX_BYTES"], 0
    with open(path, "wb") as handle:
        while chunk := stream.read(64 * 1024):
            written += len(chunk)
            if written > cap:
                break
            handle.write(chunk)
    if written > cap:
        os.remove(path)  # it holds token secrets
        raise RequestEntityTooLarge(
            f"The CSV file is larger than {cap // (1024 * 1024)} MB; split it into smaller files."
        )
    return path


def graph_job(job: OathImportJob) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "totalRows": job.total_rows,
        "processedRows": job.processed_rows,
        "importedRows": job.imported_rows,
        "failedRows": job.failed_rows,
        "message": job.message,
        "createdDateTime": clock.iso(job.created_at),
        "finishedDateTime": clock.iso(job.finished_at),
    }


@operation(
    DEVICES + "/import",
    ["POST"],
    summary="Import hardware tokens from CSV (runs as a job)",
    status=202,
    body={"type": "string"},
    responses={"202": ("The job", {"type": "object"})},
)
def import_devices():
    _inventory_access(writing=True)
    caller = current_caller()
    job = importer.start(caller.tenant.id, save_upload(), caller.actor[0])
    audit("Import hardware OATH tokens", "oathImportJob", job.id)
    db.session.commit()
    return graph_job(job), 202, {"Location": urls.base_url() + request.path + "/" + job.id}


def _job(job_id: str) -> OathImportJob:
    job = db.session.get(OathImportJob, job_id)
    if job is None or job.tenant_id != current_caller().tenant.id:
        raise not_found("There is no such import job.")
    return job


@operation(
    DEVICES + "/import/{job_id}",
    ["GET"],
    summary="Poll an import job",
    responses={"200": ("The job", {"type": "object"})},
)
def get_import(job_id):
    _inventory_access(writing=False)
    return graph_job(_job(job_id))


@operation(
    DEVICES + "/import/{job_id}/errors",
    ["GET"],
    summary="The rejected rows of an import, as CSV",
    responses={"200": ("CSV", None)},
)
def import_errors(job_id):
    _inventory_access(writing=False)
    job = _job(job_id)
    return Response(
        stream_with_context(importer.error_csv(job.id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="oath-import-{job.id}-errors.csv"'},
    )


# --- a user's methods -------------------------------------------------------------------------------


def _authorized(user_ref: str, action: str) -> tuple:
    user = target_user(user_ref)
    try:
        grant = rbac.authorize(current_caller(), user, action, self_service=True)
    except rbac.MethodAccessError as error:
        raise GraphError(error.status, None, error.message) from None
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
    device = _device(device_ref["id"])
    try:
        method = service.assign(device, user)
    except service.OathError as error:
        raise _oath_error(error) from None
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
