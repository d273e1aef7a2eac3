"""Applications and service principals, as Graph shows them (their grants: app_grants.py)."""

from sqlalchemy import select

from .. import clock
from ..directory.models import ServicePrincipal
from ..extensions import db
from ..oidc import app_properties
from ..oidc import applications as apps
from ..oidc.models import Client
from . import access, odata
from ..kit.graph import audit, current_caller, odata_context, operation, read_json
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
    client = apps.new_application(current_caller().tenant, read_json())
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
    app_properties.apply(client, read_json())
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
    credential = apps.add_password(client, read_json())
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
    apps.remove_password(client, key_id)
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
    sp = apps.new_service_principal(current_caller().tenant, read_json())
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
