"""Home realm discovery for /common and /organizations: the user's UPN domain names the tenant that signs
them in, and the authorization request goes on at that tenant's own authorize endpoint, so that its code,
tokens and `iss` are that tenant's (as Entra does for multi-tenant apps)."""

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
    """Go to the hinted user's tenant, or ask who is signing in on the tenant-less page."""
    home = directory.tenant_for_upn(login_hint) if login_hint and "@" in login_hint else None
    if home is not None:
        return at_home(home, authorize_uri, login_hint or "")
    flask_session[PENDING] = {"uri": authorize_uri, "client": client.id, "at": clock.timestamp()}
    return redirect(f"/{g.tenantless}/login/")


def pending_request() -> str | None:
    """The authorize request of this browser that waits at the tenant-less page, once."""
    pending = flask_session.pop(PENDING, None)
    if not isinstance(pending, dict) or not isinstance(pending.get("uri"), str):
        return None
    if clock.timestamp() - float(pending.get("at", 0)) > current_app.config["IDP_SIGNIN_TXN_LIFETIME"]:
        return None
    return pending["uri"]


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
