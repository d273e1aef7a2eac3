"""Who may use which resource: app role assignments (application permissions) and oauth2PermissionGrants
(delegated permissions consented for all users) between service principals."""

import uuid
from sqlalchemy import select
from .. import clock
from ..directory.models import ServicePrincipal
from ..directory.service import DirectoryError
from ..extensions import db
from .clients import DEFAULT_SCOPES
from .models import Client
from .app_properties import invalid
from .applications import GRAPH_APP_ID, NAMESPACE, _permission_prefix, app_of, app_roles_of, scopes_of


# --- app role assignments (application permissions) -------------------------------------------------


def assignment_id(principal_id: str, resource_id: str, role_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{principal_id}|{resource_id}|{role_id}"))


def assign_app_role(principal: ServicePrincipal, resource: ServicePrincipal, role_id) -> dict:
    """Grant `principal`'s app the application permission `role_id` of `resource`: its next app-only token for
    that resource carries the role."""
    client = app_of(principal)
    if client is None:
        raise invalid(
            "The principal must be the service principal of an application of this organization.", "principalId"
        )
    role = next((r for r in app_roles_of(resource) if r.get("id") == role_id and r.get("isEnabled", True)), None)
    if role is None or "Application" not in role.get("allowedMemberTypes", ["Application"]):
        raise invalid(f"Permission being assigned was not found on application '{resource.app_id}'.", "appRoleId")
    permission = _permission_prefix(resource) + role["value"]
    if permission in (client.app_permissions or []):
        raise DirectoryError(
            "Permission being assigned already exists on the object.", target="appRoleId", detail_code="ObjectConflict"
        )
    client.app_permissions = [*(client.app_permissions or []), permission]
    if "client_credentials" not in (client.grant_types or []) and not client.is_public:
        client.grant_types = [*(client.grant_types or []), "client_credentials"]
    db.session.flush()
    return assignment(principal, resource, role)


def assignment(principal: ServicePrincipal, resource: ServicePrincipal, role: dict) -> dict:
    return {
        "id": assignment_id(principal.id, resource.id, role["id"]),
        "appRoleId": role["id"],
        "principalId": principal.id,
        "principalType": "ServicePrincipal",
        "principalDisplayName": principal.display_name,
        "resourceId": resource.id,
        "resourceDisplayName": resource.display_name,
        "createdDateTime": clock.iso(principal.created_at),
        "deletedDateTime": None,
    }


def assignments_of(principal: ServicePrincipal) -> list[dict]:
    """The app role assignments `principal` holds, from its app's application permissions."""
    client = app_of(principal)
    if client is None:
        return []
    found = []
    for resource in _resources(principal.tenant_id):
        prefix = _permission_prefix(resource)
        roles = {r["value"]: r for r in app_roles_of(resource)}
        for permission in client.app_permissions or []:
            name = permission[len(prefix) :] if permission.startswith(prefix) else None
            if name and (prefix or "://" not in permission) and name in roles:
                found.append(assignment(principal, resource, roles[name]))
    return found


def assignments_to(resource: ServicePrincipal) -> list[dict]:
    principals = db.session.scalars(
        select(ServicePrincipal)
        .where(ServicePrincipal.tenant_id == resource.tenant_id, ServicePrincipal.app_id != GRAPH_APP_ID)
        .order_by(ServicePrincipal.created_at, ServicePrincipal.id)
    )
    return [a for p in principals for a in assignments_of(p) if a["resourceId"] == resource.id]


def _resources(tenant_id: str) -> list[ServicePrincipal]:
    return list(
        db.session.scalars(
            select(ServicePrincipal)
            .where(ServicePrincipal.tenant_id == tenant_id)
            .order_by(ServicePrincipal.created_at, ServicePrincipal.id)
        )
    )


def remove_assignment(principal: ServicePrincipal, assignment_ref: str) -> None:
    client = app_of(principal)
    for found in assignments_of(principal):
        if found["id"] == assignment_ref:
            resource = db.session.get(ServicePrincipal, found["resourceId"])
            value = next(r["value"] for r in app_roles_of(resource) if r["id"] == found["appRoleId"])
            client.app_permissions = [p for p in client.app_permissions if p != _permission_prefix(resource) + value]
            db.session.flush()
            return
    raise DirectoryError(
        f"Resource '{assignment_ref[:40]}' does not exist.", code="Request_ResourceNotFound", status=404
    )


# --- oauth2PermissionGrants (delegated permissions, admin consent for all principals) ----------------


def grant_id(client_sp_id: str, resource_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"grant|{client_sp_id}|{resource_id}"))


def _scope_names(resource: ServicePrincipal, client: Client) -> list[str]:
    prefix = _permission_prefix(resource)
    if prefix:
        return [s[len(prefix) :] for s in client.scopes or [] if s.startswith(prefix)]
    return [s for s in client.scopes or [] if "://" not in s]


def permission_grants(tenant_id: str) -> list[dict]:
    grants = []
    resources = _resources(tenant_id)
    for principal in resources:
        client = app_of(principal)
        if client is None:
            continue
        for resource in resources:
            names = _scope_names(resource, client)
            if names:
                grants.append(_grant(principal, resource, names))
    return grants


def _grant(principal: ServicePrincipal, resource: ServicePrincipal, names: list[str]) -> dict:
    return {
        "id": grant_id(principal.id, resource.id),
        "clientId": principal.id,
        "consentType": "AllPrincipals",
        "principalId": None,
        "resourceId": resource.id,
        "scope": " ".join(names),
    }


def set_grant(principal: ServicePrincipal, resource: ServicePrincipal, scope) -> dict:
    """Create or replace the delegated permissions `principal`'s app holds on `resource` for every user."""
    client = app_of(principal)
    if client is None:
        raise invalid("The client must be the service principal of an application of this organization.", "clientId")
    if not isinstance(scope, str) or len(scope) > 4000:
        raise invalid("Property 'scope' must be a space-separated list of permissions.", "scope")
    known = {s["value"] for s in scopes_of(resource) if s.get("isEnabled", True)}
    names = list(dict.fromkeys(scope.split()))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise invalid(f"Permission '{unknown[0][:64]}' does not exist on the resource '{resource.app_id}'.", "scope")
    prefix = _permission_prefix(resource)
    kept = [s for s in client.scopes or [] if not (s.startswith(prefix) if prefix else "://" not in s)]
    if not prefix:
        kept += [s for s in DEFAULT_SCOPES if s not in names]  # sign-in and User.Read stay, as in Entra
    client.scopes = list(dict.fromkeys(kept + [prefix + n for n in names]))
    db.session.flush()
    return _grant(principal, resource, names)


def find_grant(tenant_id: str, ref: str) -> tuple[ServicePrincipal, ServicePrincipal] | None:
    resources = _resources(tenant_id)
    for principal in resources:
        for resource in resources:
            if grant_id(principal.id, resource.id) == ref:
                return principal, resource
    return None
