"""Who may use what: app role assignments (application permissions) and oauth2PermissionGrants (delegated
consent) between service principals, as Graph shows them."""

import re

from flask import request

from ..directory.models import ServicePrincipal
from ..extensions import db
from ..oidc import app_grants as consents
from ..oidc import applications as apps
from . import access, odata
from ..kit.graph import audit, current_caller, odata_context, operation, read_json
from .applications import OBJECT, _graph_sp, _read, _service_principal
from .users import COLLECTION

ASSIGNMENT_BODY = {
    "type": "object",
    "required": ["principalId", "resourceId", "appRoleId"],
    "properties": {
        "principalId": {"type": "string"},
        "resourceId": {"type": "string"},
        "appRoleId": {"type": "string"},
    },
}
GRANT_BODY = {
    "type": "object",
    "required": ["clientId", "consentType", "resourceId", "scope"],
    "properties": {
        "clientId": {"type": "string"},
        "consentType": {"type": "string"},
        "resourceId": {"type": "string"},
        "scope": {"type": "string"},
        "principalId": {"type": ["string", "null"]},
    },
}


def _may_grant_on(resource: ServicePrincipal) -> None:
    """Microsoft Graph's application permissions reach every role and object of the directory: in Entra only a
    Privileged Role Administrator or Global Administrator grants them, not an application administrator."""
    caller = current_caller()
    if resource.app_id == apps.GRAPH_APP_ID and not caller.is_app and not caller.roles & access.ROLE_ADMINS:
        raise access.denied()


def _assign(principal: ServicePrincipal, body: dict, expected_resource: ServicePrincipal | None = None):
    access.require(access.GRANT_WRITE, access.GRANT_WRITE, access.GRANT_ADMINS)
    if body.get("principalId") != principal.id and expected_resource is None:
        raise odata.bad_request("principalId must be the service principal in the request's path.")
    if expected_resource is not None:
        principal = _service_principal(str(body.get("principalId", "")))
        if body.get("resourceId") != expected_resource.id:
            raise odata.bad_request("resourceId must be the service principal in the request's path.")
    resource = _service_principal(str(body.get("resourceId", "")))
    _may_grant_on(resource)
    created = consents.assign_app_role(principal, resource, str(body.get("appRoleId", "")).lower())
    audit(
        "Add app role assignment to service principal",
        "ServicePrincipal",
        principal.id,
        after={"resourceId": resource.id, "appRoleId": created["appRoleId"]},
    )
    db.session.commit()
    return {"@odata.context": odata_context("appRoleAssignments/$entity"), **created}, 201


@operation(
    "/servicePrincipals/{sp_id}/appRoleAssignments",
    ["POST"],
    summary="Grant an application permission to this service principal",
    body=ASSIGNMENT_BODY,
    status=201,
    responses={"201": ("Created", OBJECT)},
)
def create_app_role_assignment(sp_id):
    return _assign(_service_principal(sp_id), read_json())


@operation(
    "/servicePrincipals/{sp_id}/appRoleAssignedTo",
    ["POST"],
    summary="Grant this resource's application permission to a service principal",
    body=ASSIGNMENT_BODY,
    status=201,
    responses={"201": ("Created", OBJECT)},
)
def create_app_role_assigned_to(sp_id):
    resource = _service_principal(sp_id)
    return _assign(resource, read_json(), expected_resource=resource)


@operation(
    "/servicePrincipals/{sp_id}/appRoleAssignments",
    ["GET"],
    summary="Application permissions it holds",
    responses={"200": ("Assignments", COLLECTION)},
)
def list_app_role_assignments(sp_id):
    _read()
    return {
        "@odata.context": odata_context("appRoleAssignments"),
        "value": consents.assignments_of(_service_principal(sp_id)),
    }


@operation(
    "/servicePrincipals/{sp_id}/appRoleAssignedTo",
    ["GET"],
    summary="Who holds this resource's app roles",
    responses={"200": ("Assignments", COLLECTION)},
)
def list_app_role_assigned_to(sp_id):
    _read()
    return {
        "@odata.context": odata_context("appRoleAssignments"),
        "value": consents.assignments_to(_service_principal(sp_id)),
    }


@operation(
    "/servicePrincipals/{sp_id}/appRoleAssignments/{assignment_id}",
    ["DELETE"],
    summary="Revoke an application permission",
    status=204,
    responses={"204": ("Removed", None)},
)
def delete_app_role_assignment(sp_id, assignment_id):
    access.require(access.GRANT_WRITE, access.GRANT_WRITE, access.GRANT_ADMINS)
    principal = _service_principal(sp_id)
    _remove(principal, assignment_id)
    return "", 204


@operation(
    "/servicePrincipals/{sp_id}/appRoleAssignedTo/{assignment_id}",
    ["DELETE"],
    summary="Revoke an application permission of this resource",
    status=204,
    responses={"204": ("Removed", None)},
)
def delete_app_role_assigned_to(sp_id, assignment_id):
    access.require(access.GRANT_WRITE, access.GRANT_WRITE, access.GRANT_ADMINS)
    resource = _service_principal(sp_id)
    found = next((a for a in consents.assignments_to(resource) if a["id"] == assignment_id), None)
    if found is None:
        raise access.not_found(assignment_id)
    _remove(db.session.get(ServicePrincipal, found["principalId"]), assignment_id)
    return "", 204


def _remove(principal: ServicePrincipal, assignment_id: str) -> None:
    consents.remove_assignment(principal, assignment_id)
    audit(
        "Remove app role assignment from service principal",
        "ServicePrincipal",
        principal.id,
        before={"assignment": assignment_id},
    )
    db.session.commit()


# --- delegated permission grants --------------------------------------------------------------------


def _consent_write():
    access.require(access.CONSENT_WRITE, access.CONSENT_WRITE, access.GRANT_ADMINS)


@operation(
    "/oauth2PermissionGrants",
    ["GET"],
    summary="List delegated permission grants ($filter=clientId eq '…')",
    responses={"200": ("Grants", COLLECTION)},
)
def list_permission_grants():
    _read()
    tenant = current_caller().tenant
    _graph_sp(tenant)
    grants = consents.permission_grants(tenant.id)
    raw = (request.args.get("$filter") or "").strip()
    if raw:
        match = re.fullmatch(r"(clientId|resourceId)\s+eq\s+'([0-9a-fA-F-]{36})'", raw)
        if not match:
            raise odata.unsupported(
                "Unsupported or invalid query filter clause specified for property of resource 'OAuth2PermissionGrant'."
            )
        grants = [g for g in grants if g[match.group(1)] == match.group(2).lower()]
    return {"@odata.context": odata_context("oauth2PermissionGrants"), "value": grants}


@operation(
    "/oauth2PermissionGrants",
    ["POST"],
    summary="Grant delegated permissions to an app for all users",
    body=GRANT_BODY,
    status=201,
    responses={"201": ("Created", OBJECT)},
)
def create_permission_grant():
    _consent_write()
    body = read_json()
    if body.get("consentType") != "AllPrincipals":
        raise odata.bad_request("Only consentType 'AllPrincipals' (admin consent for every user) is supported.")
    principal = _service_principal(str(body.get("clientId", "")))
    resource = _service_principal(str(body.get("resourceId", "")))
    grant = consents.set_grant(principal, resource, body.get("scope"))
    audit("Add delegated permission grant", "ServicePrincipal", principal.id, after=grant)
    db.session.commit()
    return {"@odata.context": odata_context("oauth2PermissionGrants/$entity"), **grant}, 201


def _grant(grant_id: str) -> tuple[ServicePrincipal, ServicePrincipal]:
    found = consents.find_grant(current_caller().tenant.id, grant_id)
    if found is None:
        raise access.not_found(grant_id)
    return found


@operation(
    "/oauth2PermissionGrants/{grant_id}",
    ["PATCH"],
    summary="Change a grant's scope",
    body={"type": "object", "properties": {"scope": {"type": "string"}}},
    status=204,
    responses={"204": ("Updated", None)},
)
def update_permission_grant(grant_id):
    _consent_write()
    principal, resource = _grant(grant_id)
    grant = consents.set_grant(principal, resource, read_json().get("scope"))
    audit("Update delegated permission grant", "ServicePrincipal", principal.id, after=grant)
    db.session.commit()
    return "", 204


@operation(
    "/oauth2PermissionGrants/{grant_id}",
    ["DELETE"],
    summary="Remove a grant",
    status=204,
    responses={"204": ("Removed", None)},
)
def delete_permission_grant(grant_id):
    _consent_write()
    principal, resource = _grant(grant_id)
    consents.set_grant(principal, resource, "")
    audit("Remove delegated permission grant", "ServicePrincipal", principal.id, before={"id": grant_id})
    db.session.commit()
    return "", 204
