"""Client (app registration) management, and what a client's request for scopes resolves to."""

import secrets

from authlib.oauth2.rfc6749.errors import InvalidScopeError
from sqlalchemy import event

from .. import cache, clock, crypto
from ..extensions import db
from . import revocation
from .models import Client
from .scopes import GRAPH_RESOURCE, Resolved, ScopeError, resolve

DEFAULT_SCOPES = ["openid", "profile", "email", "offline_access", "User.Read"]  # as a new Entra app registration
GRANTS = {"authorization_code", "refresh_token", "client_credentials"}


CACHE_SECONDS = 10  # how long a cached client is trusted, unless a change recorded in the revocation state says
#: how far a change's record may precede the commit another process read the old row by (its flush-to-commit gap)
CHANGE_MARGIN_SECONDS = 2


def find_client(client_id: str | None, attach: bool = True) -> Client | None:
    """A client by id, from a short-lived per-process cache: every token request looks its client up. A change
    made in another process (a rotated secret, a deletion) is seen within the revocation state's poll interval.
    `attach=False` gives the row outside the request's session, shared with other requests: its columns only,
    for a caller that reads nothing else and changes nothing (the app-token path)."""
    if not client_id or len(client_id) > 64:
        return None
    clients = cache.named("clients", ttl=CACHE_SECONDS)
    found = clients.get(client_id, lambda: _loaded(client_id))
    changed = revocation.changed_at(revocation.CLIENT_CHANGED, client_id)
    if found is not None and changed is not None and changed >= found[0] - CHANGE_MARGIN_SECONDS:
        clients.items.pop(client_id, None)  # loaded before (or about when) it changed: read it again
        found = clients.get(client_id, lambda: _loaded(client_id))
    if found is None:
        return None
    return cache.attached(Client, found[1]) if attach else _read_only(client_id, found)


def _read_only(client_id: str, found: tuple[int, dict]) -> Client:
    """One detached row per cached load, shared by the requests that only read it (nothing may change it)."""
    shared = cache.named("read-only-clients", ttl=CACHE_SECONDS)
    kept = shared.items.get(client_id)
    if kept is None or kept[1][0] is not found:  # built from an older load: build it again
        kept = (clock.timestamp() + CACHE_SECONDS, (found, cache.detached(Client, found[1])))
        shared.items[client_id] = kept
    return kept[1][1]


def _loaded(client_id: str) -> tuple[int, dict] | None:
    values = cache.column_values(db.session.get(Client, client_id))
    return (clock.timestamp(), values) if values is not None else None


MULTI_TENANT = "AzureADMultipleOrgs"


def serves_users_of(client: Client, tenant) -> bool:
    """Whether users of another tenant may sign in to this app: a multi-tenant app (signInAudience
    AzureADMultipleOrgs) at that tenant's authorize endpoint, or at its token endpoint for the grants that
    carry a user. App-only tokens come from the app's own tenant only."""
    from flask import request

    if client.sign_in_audience != MULTI_TENANT or client.tenant_id == tenant.id:
        return False
    if request.endpoint == "oidc.authorize":
        return True
    return request.endpoint == "oidc.token" and request.form.get("grant_type") in USER_GRANTS


USER_GRANTS = ("authorization_code", "refresh_token")

#: what a user of another tenant grants a multi-tenant app by signing in to it (Entra's user consent to
#: low-risk permissions). Anything more is that tenant's admin consent, which nobody here can give: the app's
#: own tenant's grants (Client.scopes) never reach another tenant's directory.
CONSENTED_BY_SIGNING_IN = frozenset({"openid", "profile", "email", "offline_access", "User.Read"})


def unconsented(client: Client, user_tenant_id: str, scopes) -> list[str]:
    """The requested Graph permissions (stored form: bare names) that a user of `user_tenant_id` cannot
    grant this app. Permissions of the app's own tenant's APIs (`api://...`) are that tenant's to give."""
    if client.tenant_id == user_tenant_id:
        return []
    return sorted({s for s in scopes if "://" not in s and s not in CONSENTED_BY_SIGNING_IN})


@event.listens_for(Client, "after_update")
@event.listens_for(Client, "after_delete")
def _forget_clients(mapper, connection, client):
    cache.named("clients", ttl=CACHE_SECONDS).clear()  # a change made here shows here at once
    revocation.revoke_on(connection, revocation.CLIENT_CHANGED, [client.id])  # and in every other process


@event.listens_for(Client, "after_delete")
def _revoke_tokens_of_deleted_client(mapper, connection, client):
    revocation.revoke_on(connection, revocation.CLIENT, [client.id])  # its access tokens die with it


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def resource_audience(tenant_id: str, uri: str) -> str | None:
    """The client id of the API in `tenant_id` whose identifier URI is `uri` (api://<client id> by default)."""
    from sqlalchemy import select

    if uri.startswith("api://"):
        client = db.session.get(Client, uri[len("api://") :])
        if client is not None and client.tenant_id == tenant_id and client.identifier_uri in (None, uri):
            return client.id
    client = db.session.scalar(select(Client).where(Client.tenant_id == tenant_id, Client.identifier_uri == uri))
    return client.id if client else None


def resolve_scope(client, scope: str | None) -> Resolved:
    """What `scope` asks of `client`: the resource (Graph or one of the tenant's APIs) and its permissions."""
    try:
        return resolve(scope, client.scopes, lambda uri: resource_audience(client.tenant_id, uri))
    except ScopeError as error:
        raise InvalidScopeError(str(error)) from None


def check_scope(grant) -> None:
    """A grant's requested scopes: what the client may ask for, and an API's permissions it exposes."""
    check_requested_scope(grant.request.client, grant.request.payload.scope)


def check_requested_scope(client, scope: str | None) -> None:
    resolved = resolve_scope(client, scope)
    unknown = set(resolved.scopes) - set(client.scopes)
    if unknown:
        raise InvalidScopeError(f"The client may not request: {' '.join(sorted(unknown))}")
    if resolved.resource != GRAPH_RESOURCE:
        api = db.session.get(Client, resolved.audience)
        hidden = set(resolved.permissions) - set(api.exposed_scopes)
        if hidden:
            raise InvalidScopeError(f"The API does not expose: {' '.join(sorted(hidden))}")


def create_client(
    tenant,
    name,
    redirect_uris,
    public=False,
    grants=None,
    permissions=(),
    post_logout=(),
    scopes=(),
    exposed_scopes=(),
    identifier_uri=None,
    signing_alg="RS256",
    certificate: bytes | None = None,
):
    """Register an OAuth client; returns it with its secret (shown once; only a hash is kept)."""
    grants = list(
        grants or (["authorization_code", "refresh_token"] if public or redirect_uris else ["client_credentials"])
    )
    bad = set(grants) - GRANTS
    if bad:
        raise ValueError(f"unsupported grant(s): {', '.join(sorted(bad))}")
    if signing_alg not in ("RS256", "ES256"):
        raise ValueError("the signing algorithm must be RS256 or ES256")
    if public and "client_credentials" in grants:
        raise ValueError("a public client cannot use client_credentials")
    secret = None if public else new_client_secret()
    client = Client(
        tenant_id=tenant.id,
        name=name,
        is_public=public,
        secret_hash=crypto.digest(secret) if secret else None,
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        redirect_uris=list(redirect_uris),
        post_logout_redirect_uris=list(post_logout),
        grant_types=grants,
        scopes=DEFAULT_SCOPES + [s for s in scopes if s not in DEFAULT_SCOPES],
        app_permissions=list(permissions),
        exposed_scopes=list(exposed_scopes),
        identifier_uri=identifier_uri,
        id_token_signed_response_alg=signing_alg,
    )
    if certificate is not None:
        from .grants.certificates import describe

        client.certificates = [describe(certificate)]  # the public part only; the app keeps its key
    db.session.add(client)
    db.session.flush()
    return client, secret
