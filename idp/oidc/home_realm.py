"""Home realm discovery for /common and /organizations: the user's UPN domain names the tenant that signs
them in, and the authorization request goes on at that tenant's own authorize endpoint, so that its code,
tokens and `iss` are that tenant's (as Entra does for multi-tenant apps)."""

import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import current_app, g, redirect
from flask import session as flask_session

from .. import clock
from ..directory import service as directory
from . import entra_errors
from .clients import MULTI_TENANT

PENDING = "tenantless_authorize"  # the request waiting for the user to name their account
NAMED = "home_realm_upn"  # the account named at the tenant-less step, for the home tenant's authorize


def refusal(client, grant):
    """Entra refuses /common and /organizations for single-tenant apps (AADSTS50194), to the app."""
    if client.sign_in_audience == MULTI_TENANT:
        return None
    name = entra_errors.description_text(client.name[:100])
    error = InvalidRequestError(
        description=f"Application '{client.id}'({name}) is not configured as a multi-tenant application. "
        + entra_errors.CODES[50194][1],
        redirect_uri=grant.redirect_uri,
        state=grant.request.payload.state,
    )
    error.aadsts = 50194  # type: ignore[attr-defined]
    return error


def discover(client, authorize_uri: str, login_hint: str | None):
    """Go to the hinted user's tenant, or ask who is signing in on the tenant-less page. The page's address
    carries a ticket for this request: a request planted in the browser earlier (a link that opened an
    attacker's app's /common authorize) never takes over a later, plain visit of the page."""
    home = directory.tenant_for_upn(login_hint) if login_hint and "@" in login_hint else None
    if home is not None:
        return at_home(home, authorize_uri, login_hint or "")
    ticket = secrets.token_urlsafe(12)
    flask_session[PENDING] = {"uri": authorize_uri, "client": client.id, "at": clock.timestamp(), "ticket": ticket}
    return redirect(f"/{g.tenantless}/login/?{urlencode({'request': ticket})}")


def _pending(ticket: str | None) -> dict | None:
    pending = flask_session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("uri"), str) or not ticket:
        return None
    if not secrets.compare_digest(str(pending.get("ticket", "")), ticket[:64]):
        return None
    if clock.timestamp() - float(pending.get("at", 0)) > current_app.config["IDP_SIGNIN_TXN_LIFETIME"]:
        return None
    return pending


def waiting_app(ticket: str | None) -> str | None:
    """The name of the app whose request this page's ticket names (the page says where the user goes on to)."""
    from .clients import find_client

    pending = _pending(ticket)
    client = find_client(pending.get("client")) if pending else None
    return client.name if client else None


def pending_request(ticket: str | None) -> str | None:
    """The authorize request of this browser that waits at the tenant-less page under `ticket`, once."""
    pending = _pending(ticket)
    flask_session.pop(PENDING, None)
    return pending["uri"] if pending else None


def at_home(home, authorize_uri: str, upn: str):
    """The same authorization request at the home tenant's endpoint, the account already named."""
    flask_session[NAMED] = upn.strip().lower()
    return redirect(_at_tenant(authorize_uri, home.id, upn))


def named_account(login_hint: str | None) -> str | None:
    """The account the user named at the tenant-less step, when this request is the one it led to."""
    named = flask_session.pop(NAMED, None)
    return named if named and login_hint and named == login_hint.strip().lower() else None


def _at_tenant(authorize_uri: str, tenant_id: str, upn: str) -> str:
    parts = urlsplit(authorize_uri)
    path = "/" + tenant_id + "/" + parts.path.lstrip("/").split("/", 1)[1]
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "login_hint"]
    return urlunsplit(("", "", path, urlencode([*query, ("login_hint", upn)]), ""))
