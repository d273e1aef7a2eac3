"""App registrations as Graph's application and servicePrincipal objects: one service for the Graph API, the
CLI and the console. An application is a `Client` (its client id is the appId); its service principal is a
`ServicePrincipal` row. Microsoft Graph itself has a service principal in every tenant (appId
00000003-0000-0000-c000-000000000000) whose app roles and scopes are the permissions this server knows.

Application permissions granted by app role assignments, and delegated permissions granted by
oauth2PermissionGrants, are kept where tokens read them (`Client.app_permissions`, `Client.scopes`), so the
next token carries them; the assignment and grant objects (app_grants.py) are derived from those lists."""

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from .. import clock, crypto
from ..directory.models import ServicePrincipal, Tenant
from ..directory.service import DirectoryError
from ..extensions import db
from .clients import DEFAULT_SCOPES
from .app_properties import apply, derive_client_type, invalid
from .models import Client

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
NAMESPACE = uuid.UUID("6c1f0e8e-2b7d-4a43-9a57-52f1f3b8e0d4")
#: Microsoft Graph's application permissions (app roles) this server understands, with Graph's ids
GRAPH_APP_ROLES = {
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
    "User.Invite.All": "09850681-111b-4a89-9bed-3f2cae46d706",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "GroupMember.ReadWrite.All": "dbaae8cf-10b5-4b86-a4a1-f871c94c6695",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "Reports.Read.All": "230c1aed-a721-4c5d-9cb4-a90514e508ef",
    "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
    "Policy.Read.All": "246dd0d5-5bd0-4def-940b-0421030a5b68",
    "Policy.ReadWrite.AuthenticationMethod": "29c18626-4985-4dcd-85c0-193eef327366",
    "Policy.ReadWrite.ConditionalAccess": "01c0a623-fc9b-48e9-b794-0756f8e8f067",
    "UserAuthenticationMethod.Read.All": "38d9df27-64da-44fd-b7c5-a6fbac20248f",
    "UserAuthenticationMethod.ReadWrite.All": "50483e42-d915-4231-9639-7fdb7fd190e5",
}
#: Microsoft Graph's delegated permissions (oauth2PermissionScopes) this server understands
GRAPH_SCOPES = {
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "User.Read.All": "a154be20-db9c-4678-8ab7-66f6cc099a59",
    "User.ReadWrite.All": "204e0828-b5ca-4ad8-b9f3-f32a958e7cc4",
    "Group.ReadWrite.All": "4e46008b-f24c-477d-8fff-7bb4ec7aafe0",
    "Directory.Read.All": "06da0dbc-49e2-44d2-8312-53f166ab848a",
    "Application.Read.All": "c79f8feb-a9db-4090-85f9-90d820caa0eb",
    "Application.ReadWrite.All": "bdfbf15f-ee85-4955-8675-146e8e5296b5",
    "AuditLog.Read.All": "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20",
    "Policy.Read.All": "572fea84-0151-49b2-9301-11cb16974376",
}
SECRET_LIFETIME = timedelta(days=730)  # Graph's default for addPassword: two years


# --- service principals ----------------------------------------------------------------------------


def graph_service_principal(tenant: Tenant) -> ServicePrincipal:
    """Microsoft Graph's service principal in `tenant`, created on first use."""
    return _service_principal(tenant.id, GRAPH_APP_ID, "Microsoft Graph")


def _service_principal(tenant_id: str, app_id: str, name: str) -> ServicePrincipal:
    found = db.session.scalar(
        select(ServicePrincipal).where(ServicePrincipal.tenant_id == tenant_id, ServicePrincipal.app_id == app_id)
    )
    if found is None:
        found = ServicePrincipal(tenant_id=tenant_id, app_id=app_id, display_name=name, tags=[])
        db.session.add(found)
        db.session.flush()
    return found


def new_service_principal(tenant: Tenant, body: dict) -> ServicePrincipal:
    """POST /servicePrincipals {"appId"}: the app registration's instance in this tenant."""
    app_id = body.get("appId")
    client = db.session.get(Client, app_id) if isinstance(app_id, str) and len(app_id) <= 36 else None
    if client is None or client.tenant_id != tenant.id:
        raise DirectoryError(
            f"The appId '{str(app_id)[:40]}' of the service principal does not reference a valid application object.",
            target="appId",
        )
    if db.session.scalar(
        select(ServicePrincipal.id).where(ServicePrincipal.tenant_id == tenant.id, ServicePrincipal.app_id == client.id)
    ):
        raise DirectoryError(
            "The service principal cannot be created, updated, or restored because the service "
            "principal name is already in use.",
            target="appId",
            detail_code="ObjectConflict",
        )
    return _service_principal(tenant.id, client.id, client.name)


def ensure_service_principal(client: Client) -> ServicePrincipal:
    return _service_principal(client.tenant_id, client.id, client.name)


def app_of(sp: ServicePrincipal) -> Client | None:
    return None if sp.app_id == GRAPH_APP_ID else db.session.get(Client, sp.app_id)


def app_roles_of(sp: ServicePrincipal) -> list[dict]:
    if sp.app_id == GRAPH_APP_ID:
        return [
            {
                "id": role_id,
                "value": name,
                "displayName": name,
                "description": name,
                "isEnabled": True,
                "allowedMemberTypes": ["Application"],
                "origin": "Application",
            }
            for name, role_id in GRAPH_APP_ROLES.items()
        ]
    client = app_of(sp)
    return list(client.app_roles or []) if client else []


def scopes_of(sp: ServicePrincipal) -> list[dict]:
    if sp.app_id == GRAPH_APP_ID:
        return [
            {
                "id": scope_id,
                "value": name,
                "type": "Admin" if "." in name and name != "User.Read" else "User",
                "adminConsentDisplayName": name,
                "adminConsentDescription": name,
                "isEnabled": True,
            }
            for name, scope_id in GRAPH_SCOPES.items()
        ]
    client = app_of(sp)
    return list(client.scope_definitions or []) if client else []


def _permission_prefix(resource: ServicePrincipal) -> str:
    """How the client's lists name the resource's permissions: Graph's bare, others as `<identifier URI>/`."""
    if resource.app_id == GRAPH_APP_ID:
        return ""
    return app_of(resource).resource_uri + "/"


# --- application objects ----------------------------------------------------------------------------


def new_application(tenant: Tenant, body: dict) -> Client:
    """POST /applications. The registration signs in at once; its service principal is a separate step
    (POST /servicePrincipals), as in Entra."""
    if not isinstance(body.get("displayName"), str) or not body["displayName"].strip():
        raise invalid("Property 'displayName' is required.", "displayName")
    client = Client(
        tenant_id=tenant.id,
        name="",
        is_public=False,
        secret_hash=None,
        token_endpoint_auth_method="client_secret_basic",
        redirect_uris=[],
        post_logout_redirect_uris=[],
        grant_types=[],
        scopes=list(DEFAULT_SCOPES),
        app_permissions=[],
        exposed_scopes=[],
        password_credentials=[],
        key_credentials=[],
        app_roles=[],
        scope_definitions=[],
        required_resource_access=[],
        spa_redirect_uris=[],
        public_redirect_uris=[],
    )
    client.id = str(uuid.uuid4())
    apply(client, body)
    db.session.add(client)
    db.session.flush()
    return client


def add_password(client: Client, body: dict) -> dict:
    """addPassword: a new client secret, returned once with `secretText`; only its hash is kept."""
    credential = body.get("passwordCredential") or {}
    if not isinstance(credential, dict):
        raise invalid("Property 'passwordCredential' must be an object.", "passwordCredential")
    display = credential.get("displayName")
    if display is not None and (not isinstance(display, str) or len(display) > 256):
        raise invalid("Property 'displayName' must be a string.", "passwordCredential")
    now = clock.now()
    end = _moment(credential.get("endDateTime"), "endDateTime") or now + SECRET_LIFETIME
    start = _moment(credential.get("startDateTime"), "startDateTime") or now
    if end <= start or end <= now:
        raise invalid(
            "The endDateTime of a password credential must be in the future and after its start.", "passwordCredential"
        )
    if len(client.password_credentials or []) >= 20:
        raise invalid("An application holds at most 20 password credentials.", "passwordCredential")
    secret = secrets.token_urlsafe(30)
    entry = {
        "keyId": str(uuid.uuid4()),
        "displayName": display,
        "hint": secret[:3],
        "startDateTime": clock.iso(start),
        "endDateTime": clock.iso(end),
        "hash": crypto.digest(secret),
    }
    client.password_credentials = [*(client.password_credentials or []), entry]
    derive_client_type(client)
    db.session.flush()
    return {**public_password(entry), "secretText": secret}


def public_password(entry: dict) -> dict:
    return {
        "keyId": entry["keyId"],
        "displayName": entry.get("displayName"),
        "hint": entry.get("hint"),
        "startDateTime": entry.get("startDateTime"),
        "endDateTime": entry.get("endDateTime"),
        "customKeyIdentifier": None,
        "secretText": None,
    }


def remove_password(client: Client, key_id) -> None:
    kept = [c for c in client.password_credentials or [] if c["keyId"] != str(key_id).lower()]
    if len(kept) == len(client.password_credentials or []):
        raise DirectoryError(
            f"No password credential with keyId '{str(key_id)[:40]}' exists on the application.",
            code="Request_ResourceNotFound",
            status=404,
        )
    client.password_credentials = kept
    db.session.flush()


def _moment(value, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"Property '{name}' must be a date and time.", name)
    try:
        return _utc(value)
    except ValueError:
        raise invalid(f"Property '{name}' must be an ISO 8601 date and time.", name) from None


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def delete_application(client: Client) -> None:
    sp = db.session.scalar(
        select(ServicePrincipal).where(
            ServicePrincipal.tenant_id == client.tenant_id, ServicePrincipal.app_id == client.id
        )
    )
    if sp is not None:
        db.session.delete(sp)
    db.session.delete(client)
    db.session.flush()
