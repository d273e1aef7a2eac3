"""Applications, service principals, app role assignments and oauth2PermissionGrants, as Graph shows them."""

import re

from flask import request
from sqlalchemy import select

from .. import clock
from ..directory.models import ServicePrincipal
from ..directory.service import DirectoryError
from ..extensions import db
from ..oidc import applications as apps
from ..oidc.models import Client
from . import access, odata
from .api import audit, current_caller, odata_context, operation, read_json
from .users import COLLECTION

OBJECT = {"type": "object"}
APP_BODY = {
    "type": "object",
    "properties": {
        "displayName": {"type": "string"},
        "signInAudience": {"type": "string"},
        "web": {"type": "object"},
        "spa": {"type": "object"},
        "publicClient": {"type": "object"},
        "isFallbackPublicClient": {"type": "boolean"},
        "identifierUris": {"type": "array", "items": {"type": "string"}},
        "api": {"type": "object"},
        "appRoles": {"type": "array"},
        "requiredResourceAccess": {"type": "array"},
        "keyCredentials": {"type": "array"},
    },
}
PASSWORD_BODY = {
    "type": "object",
    "properties": {
        "passwordCredential": {
            "type": "object",
            "properties": {"displayName": {"type": "string"}, "endDateTime": {"type": "string"}},
        }
    },
}
REMOVE_BODY = {"type": "object", "required": ["keyId"], "properties": {"keyId": {"type": "string"}}}
SP_BODY = {"type": "object", "required": ["appId"], "properties": {"appId": {"type": "string"}}}
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

APPLICATIONS = odata.Collection(
    "Application",
    {
        "id": odata.Prop(Client.object_id, "guid", {"eq", "in"}),
        "appId": odata.Prop(Client.id, "guid", {"eq", "in"}),
        "displayName": odata.Prop(Client.name, operators={"eq", "in", "startswith", "ne", "not"}, sortable=True),
        "signInAudience": odata.Prop(Client.sign_in_audience, operators={"eq", "ne", "not"}),
    },
    order=(Client.name, Client.id),
    searchable=("displayName",),
)
SERVICE_PRINCIPALS = odata.Collection(
    "ServicePrincipal",
    {
        "id": odata.Prop(ServicePrincipal.id, "guid", {"eq", "in"}),
        "appId": odata.Prop(ServicePrincipal.app_id, "guid", {"eq", "in"}),
        "displayName": odata.Prop(
            ServicePrincipal.display_name, operators={"eq", "in", "startswith", "ne", "not"}, sortable=True
        ),
        "accountEnabled": odata.Prop(ServicePrincipal.account_enabled, "bool", {"eq", "ne"}),
    },
    order=(ServicePrincipal.display_name, ServicePrincipal.id),
    searchable=("displayName",),
)


def graph_application(client: Client) -> dict:
    return {
        "id": client.object_id,
        "appId": client.id,
        "displayName": client.name,
        "signInAudience": client.sign_in_audience,
        "createdDateTime": clock.iso(client.created_at),
        "identifierUris": [client.identifier_uri] if client.identifier_uri else [],
        "isFallbackPublicClient": client.is_fallback_public_client,
        "web": {
            "redirectUris": list(client.redirect_uris or []),
            "logoutUrl": (client.post_logout_redirect_uris or [None])[0],
            "implicitGrantSettings": {
                "enableIdTokenIssuance": bool(getattr(client, "id_tokens_enabled", False)),
                "enableAccessTokenIssuance": False,
            },
        },
        "spa": {"redirectUris": list(client.spa_redirect_uris or [])},
        "publicClient": {"redirectUris": list(client.public_redirect_uris or [])},
        "api": {"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": list(client.scope_definitions or [])},
        "appRoles": list(client.app_roles or []),
        "requiredResourceAccess": list(client.required_resource_access or []),
        "keyCredentials": list(client.key_credentials or []),
        "passwordCredentials": [apps.public_password(c) for c in client.password_credentials or []],
    }


def graph_service_principal(sp: ServicePrincipal) -> dict:
    client = apps.app_of(sp)
    names = (
        [sp.app_id]
        + ([client.identifier_uri] if client and client.identifier_uri else [])
        + (["https://graph.microsoft.com"] if sp.app_id == apps.GRAPH_APP_ID else [])
    )
    return {
        "id": sp.id,
        "appId": sp.app_id,
        "displayName": sp.display_name,
        "accountEnabled": sp.account_enabled,
        "servicePrincipalType": "Application",
        "servicePrincipalNames": names,
        "tags": list(sp.tags or []),
        "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
        if sp.app_id == apps.GRAPH_APP_ID
        else sp.tenant_id,
        "appRoles": apps.app_roles_of(sp),
        "oauth2PermissionScopes": apps.scopes_of(sp),
        "createdDateTime": clock.iso(sp.created_at),
    }


def _fail(error: DirectoryError):
    raise access.directory_error(error) from None


def _application(ref: str, by_app_id: bool = False) -> Client:
    tenant_id = current_caller().tenant.id
    column = Client.id if by_app_id else Client.object_id
    client = db.session.scalar(select(Client).where(column == ref[:36], Client.tenant_id == tenant_id))
    if client is None:
        raise access.not_found(ref)
    return client


def _graph_sp(tenant) -> None:
    """Microsoft Graph's service principal exists in every tenant: made (and kept) on first look."""
    apps.graph_service_principal(tenant)
    db.session.commit()


def _service_principal(ref: str, by_app_id: bool = False) -> ServicePrincipal:
    tenant = current_caller().tenant
    _graph_sp(tenant)
    column = ServicePrincipal.app_id if by_app_id else ServicePrincipal.id
    sp = db.session.scalar(select(ServicePrincipal).where(column == ref[:36], ServicePrincipal.tenant_id == tenant.id))
    if sp is None:
        raise access.not_found(ref)
    return sp


def _read():
    access.require(access.APP_READ, access.APP_READ)


def _write():
    access.require(access.APP_WRITE, access.APP_WRITE, access.APP_ADMINS)


# --- applications -----------------------------------------------------------------------------------


@operation("/applications", ["GET"], summary="List applications", responses={"200": ("Applications", COLLECTION)})
def list_applications():
    _read()
    stmt = select(Client).where(Client.tenant_id == current_caller().tenant.id)
    return APPLICATIONS.page(stmt, graph_application, odata_context("applications"))


@operation(
    "/applications",
    ["POST"],
    summary="Register an application",
    body=APP_BODY,
    status=201,
    responses={"201": ("Created", OBJECT)},
)
def create_application():
    _write()
    try:
        client = apps.new_application(current_caller().tenant, read_json())
    except DirectoryError as error:
        _fail(error)
    audit("Add application", "Application", client.object_id, after=graph_application(client))
    db.session.commit()
    return {"@odata.context": odata_context("applications/$entity"), **graph_application(client)}, 201


@operation("/applications/{app_object_id}", ["GET"], summary="Get an application", responses={"200": ("App", OBJECT)})
def get_application(app_object_id):
    _read()
    return {"@odata.context": odata_context("applications/$entity"), **graph_application(_application(app_object_id))}


@operation(
    "/applications(appId='{app_id}')",
    ["GET"],
    summary="Get an application by appId",
    responses={"200": ("App", OBJECT)},
)
def get_application_by_app_id(app_id):
    _read()
    return {
        "@odata.context": odata_context("applications/$entity"),
        **graph_application(_application(app_id, by_app_id=True)),
    }


@operation(
    "/applications/{app_object_id}",
    ["PATCH"],
    summary="Update an application",
    body=APP_BODY,
    status=204,
    responses={"204": ("Updated", None)},
)
def update_application(app_object_id):
    _write()
    client = _application(app_object_id)
    before = graph_application(client)
    try:
        apps.apply(client, read_json())
    except DirectoryError as error:
        _fail(error)
    db.session.flush()
    audit("Update application", "Application", client.object_id, before=before, after=graph_application(client))
    db.session.commit()
    return "", 204


@operation(
    "/applications/{app_object_id}",
    ["DELETE"],
    summary="Delete an application",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_application(app_object_id):
    _write()
    client = _application(app_object_id)
    audit("Delete application", "Application", client.object_id, before=graph_application(client))
    apps.delete_application(client)
    db.session.commit()
    return "", 204


@operation(
    "/applications/{app_object_id}/addPassword",
    ["POST"],
    summary="Add a client secret (shown once)",
    body=PASSWORD_BODY,
    responses={"200": ("Password credential", OBJECT)},
)
def add_password(app_object_id):
    _write()
    client = _application(app_object_id)
    try:
        credential = apps.add_password(client, read_json())
    except DirectoryError as error:
        _fail(error)
    audit(
        "Update application – Certificates and secrets management",
        "Application",
        client.object_id,
        after={
            "keyId": credential["keyId"],
            "displayName": credential["displayName"],
            "endDateTime": credential["endDateTime"],
        },
    )
    db.session.commit()
    return {"@odata.context": odata_context("microsoft.graph.passwordCredential"), **credential}


@operation(
    "/applications/{app_object_id}/removePassword",
    ["POST"],
    summary="Remove a client secret",
    body=REMOVE_BODY,
    status=204,
    responses={"204": ("Removed", None)},
)
def remove_password(app_object_id):
    _write()
    client = _application(app_object_id)
    key_id = read_json().get("keyId")
    try:
        apps.remove_password(client, key_id)
    except DirectoryError as error:
        _fail(error)
    audit(
        "Update application – Certificates and secrets management",
        "Application",
        client.object_id,
        before={"keyId": str(key_id)[:40]},
    )
    db.session.commit()
    return "", 204


# --- service principals -----------------------------------------------------------------------------


@operation(
    "/servicePrincipals",
    ["GET"],
    summary="List service principals ($filter=appId eq '…')",
    responses={"200": ("Service principals", COLLECTION)},
)
def list_service_principals():
    _read()
    tenant = current_caller().tenant
    _graph_sp(tenant)
    stmt = select(ServicePrincipal).where(ServicePrincipal.tenant_id == tenant.id)
    return SERVICE_PRINCIPALS.page(stmt, graph_service_principal, odata_context("servicePrincipals"))


@operation(
    "/servicePrincipals",
    ["POST"],
    summary="Create an application's service principal",
    body=SP_BODY,
    status=201,
    responses={"201": ("Created", OBJECT)},
)
def create_service_principal():
    _write()
    try:
        sp = apps.new_service_principal(current_caller().tenant, read_json())
    except DirectoryError as error:
        _fail(error)
    audit("Add service principal", "ServicePrincipal", sp.id, after={"appId": sp.app_id})
    db.session.commit()
    return {"@odata.context": odata_context("servicePrincipals/$entity"), **graph_service_principal(sp)}, 201


@operation("/servicePrincipals/{sp_id}", ["GET"], summary="Get a service principal", responses={"200": ("SP", OBJECT)})
def get_service_principal(sp_id):
    _read()
    return {
        "@odata.context": odata_context("servicePrincipals/$entity"),
        **graph_service_principal(_service_principal(sp_id)),
    }


@operation(
    "/servicePrincipals(appId='{app_id}')",
    ["GET"],
    summary="Get a service principal by appId",
    responses={"200": ("SP", OBJECT)},
)
def get_service_principal_by_app_id(app_id):
    _read()
    return {
        "@odata.context": odata_context("servicePrincipals/$entity"),
        **graph_service_principal(_service_principal(app_id, by_app_id=True)),
    }


@operation(
    "/servicePrincipals/{sp_id}",
    ["DELETE"],
    summary="Delete a service principal",
    status=204,
    responses={"204": ("Deleted", None)},
)
def delete_service_principal(sp_id):
    _write()
    sp = _service_principal(sp_id)
    if sp.app_id == apps.GRAPH_APP_ID:
        raise access.denied("Microsoft Graph's service principal cannot be deleted.")
    audit("Remove service principal", "ServicePrincipal", sp.id, before={"appId": sp.app_id})
    db.session.delete(sp)
    db.session.commit()
    return "", 204


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
    try:
        created = apps.assign_app_role(principal, resource, str(body.get("appRoleId", "")).lower())
    except DirectoryError as error:
        _fail(error)
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
        "value": apps.assignments_of(_service_principal(sp_id)),
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
        "value": apps.assignments_to(_service_principal(sp_id)),
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
    found = next((a for a in apps.assignments_to(resource) if a["id"] == assignment_id), None)
    if found is None:
        raise access.not_found(assignment_id)
    _remove(db.session.get(ServicePrincipal, found["principalId"]), assignment_id)
    return "", 204


def _remove(principal: ServicePrincipal, assignment_id: str) -> None:
    try:
        apps.remove_assignment(principal, assignment_id)
    except DirectoryError as error:
        _fail(error)
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
    grants = apps.permission_grants(tenant.id)
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
    try:
        grant = apps.set_grant(principal, resource, body.get("scope"))
    except DirectoryError as error:
        _fail(error)
    audit("Add delegated permission grant", "ServicePrincipal", principal.id, after=grant)
    db.session.commit()
    return {"@odata.context": odata_context("oauth2PermissionGrants/$entity"), **grant}, 201


def _grant(grant_id: str) -> tuple[ServicePrincipal, ServicePrincipal]:
    found = apps.find_grant(current_caller().tenant.id, grant_id)
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
    try:
        grant = apps.set_grant(principal, resource, read_json().get("scope"))
    except DirectoryError as error:
        _fail(error)
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
    apps.set_grant(principal, resource, "")
    audit("Remove delegated permission grant", "ServicePrincipal", principal.id, before={"id": grant_id})
    db.session.commit()
    return "", 204
