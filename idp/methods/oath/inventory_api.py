"""Graph: the hardware OATH token inventory (hardwareOathDevices) and its CSV import jobs."""

import os
import uuid

from flask import Response, current_app, request, stream_with_context
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from ... import clock, urls
from ...directory.models import Roles
from ...extensions import db
from ...kit.graph import (
    audit,
    bad_request,
    conflict,
    current_caller,
    forbidden,
    not_found,
    odata_context,
    operation,
    read_json,
    target_user,
)
from .. import rbac
from . import importer, service
from .models import HardwareOathDevice, OathImportJob

DEVICES = "/directory/authenticationMethodDevices/hardwareOathDevices"
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


def device_of(device_id: str) -> HardwareOathDevice:
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
    rbac.authorize(current_caller(), user, "create", self_service=False)
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
        **graph_device(device_of(device_id)),
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
    device = device_of(device_id)
    body = read_json()
    if "secretKey" in body:
        raise bad_request("The secret key of a hardware token cannot be changed.")
    before = graph_device(device)
    unknown = set(body) - set(service.NAME_FIELDS) - {"@odata.type"}
    if unknown:
        raise bad_request(f"Property '{min(unknown)}' cannot be changed.")
    names = service.validate_names(body)
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
    device = device_of(device_id)
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
