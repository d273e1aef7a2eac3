"""OpenID Connect endpoints, shaped like Entra's v2.0 endpoints under /{tenant}/."""

import base64
import binascii
import re
from datetime import timedelta

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from flask_babel import gettext as _
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, UnauthorizedClientError
from flask import (
    Blueprint,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session as flask_session,
    url_for,
)

from .. import clock
from ..extensions import csrf, db
from ..policy import strengths
from ..signin import flow, sessions
from . import claims as claim_rules
from . import bearer, entra_answers, entra_errors, home_realm, naming, response_modes, tokens
from .server import redirect_error, server

bp = Blueprint("oidc", __name__)
csrf.exempt(bp)  # token-style endpoints authenticate the client; the authorize step has no form

# RFC 6749 allows only visible ASCII (VSCHAR) in these parameters; refusing anything else at the door keeps
# hostile bytes out of error messages, logs and redirects.
VSCHAR = re.compile(r"[\x20-\x7e]{0,4096}")
CHECKED = frozenset(
    (
        "client_id",
        "response_type",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "response_mode",
        "nonce",
        "max_age",
        "redirect_uri",
        "grant_type",
        "code",
        "code_verifier",
        "refresh_token",
        "token",
        "token_type_hint",
        "post_logout_redirect_uri",
        "id_token_hint",
        "client_secret",
        "acr_values",
    )
)


TENANT_FREE = ("oidc.discovery", "oidc.jwks", "oidc.error_lookup", "oidc.user_realm")


@bp.before_request
def refuse_without_tenant():
    """/consumers has no users here; /common and /organizations need an app of this server to name the
    tenant, except for the documents that are the same for every tenant."""
    if g.get("tenant") is not None or request.endpoint in TENANT_FREE and g.get("tenantless") != "consumers":
        return None
    if g.get("tenantless") == "consumers":
        error = entra_errors.entra(
            UnauthorizedClientError,
            700016,
            "The client does not exist or is not enabled for consumers: this server has "
            "work and school accounts only. Use /organizations or the tenant's own authority.",
        )
    elif request.endpoint in TENANT_FREE:
        return None
    else:
        error = entra_errors.entra(InvalidClientError, 700016, "Send the client_id of an app registered here.")
    if request.endpoint in JSON_ENDPOINTS or request.endpoint == "oidc.discovery":
        return entra_answers.body(error), 400, entra_answers.response_headers()
    return error_page(_("This sign-in request is not valid"), error)


@bp.before_request
def refuse_malformed_parameters():
    for name, value in request.values.items(multi=True):
        if (name in CHECKED and not VSCHAR.fullmatch(value)) or (name in HINTS and not HINT.fullmatch(value)):
            description = f"The parameter '{name}' contains characters that are not allowed, or is too long."
            error = entra_errors.entra(InvalidRequestError, 9002313, description)
            if request.endpoint in JSON_ENDPOINTS:
                return entra_answers.body(error), 400, entra_answers.response_headers()
            return error_page(_("This request is not valid"), error)
    return None


JSON_ENDPOINTS = ("oidc.token", "oidc.introspect", "oidc.revoke", "oidc.devicecode")
#: hints name an account or a domain (Unicode allowed, as in addresses): one line, at most an address long,
#: since /common carries them into the session, the transaction and the home tenant's redirect
HINTS = frozenset(("login_hint", "domain_hint"))
HINT = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]{0,320}")


def error_page(title: str, error: OAuth2Error, status: int = 400):
    """Entra's error page: what went wrong, the AADSTS code and the trace id to quote."""
    code = entra_answers.classify(error)
    return render_template(
        "error.html",
        title=title,
        message=_translated_description(error, code),
        code=f"AADSTS{code}",
        error=error.error,
        trace_id=entra_errors.trace_id(),
        correlation_id=entra_errors.correlation_id(),
        timestamp=clock.now(),
    ), status


def _translated_description(error: OAuth2Error, code: int) -> str:
    """Entra's text for the code in the page's language; the request-specific detail after it stays as is."""
    text = error.description or error.error
    known = entra_errors.CODES.get(code, ("", ""))[1]
    if known and text.startswith(known):
        return _(known) + text[len(known) :]
    return _(text)


def _error_redirect(error: OAuth2Error):
    """Send an OAuth error back to the client, with `iss` (RFC 9207), or show it when there is no
    validated redirect URI to send it to."""
    if not error.redirect_uri:
        return error_page(_("This sign-in request is not valid"), error)
    return redirect_error(error)


def _session_for(prompt: str, max_age: str | None):
    """The SSO session this authorization request may use without interaction, or None."""
    session = sessions.current(g.tenant)
    # the sign-in this very request started counts as fresh once; any other sign-in does not
    fresh = session is not None and flask_session.pop("fresh_signin", None) == [
        session.id,
        flow.request_digest(request.url),
    ]
    if session is None or fresh:
        return session
    if "login" in prompt.split():
        return None
    if max_age is not None:
        try:
            limit = min(int(max_age), 2**31)  # beyond ~68 years means "any age": timedelta would overflow
        except ValueError:
            return None
        if limit < 0 or clock.now() - session.auth_time > timedelta(seconds=limit):
            return None
    return session


def required_strength(client) -> strengths.Strength | None:
    """The app's own requirement (like a Conditional Access policy) wins; otherwise the first `acr_values`
    entry that names a strength of this tenant (a relying party asking for step-up)."""
    if client.required_strength_id:
        return strengths.find(client.tenant_id, client.required_strength_id)
    for value in request.values.get("acr_values", "").split()[:10]:
        found = strengths.find(client.tenant_id, value)
        if found is not None:
            return found
    return None


@bp.route("/<tenant>/oauth2/v2.0/authorize", methods=["GET", "POST"])
def authorize():
    try:
        response_modes.validate()
    except OAuth2Error as error:
        return error_page(_("This sign-in request is not valid"), error)
    cancelled = flask_session.pop("cancelled_signin", None)
    session = _session_for(request.values.get("prompt", ""), request.values.get("max_age"))
    principal = tokens.Principal(session.user, session) if session else None
    try:
        grant = server.get_consent_grant(end_user=principal)
    except OAuth2Error as error:
        return response_modes.deliver(_error_redirect(error), error.redirect_uri)
    if cancelled:
        return _respond(grant, None)
    refused = home_realm.refusal(grant.client, grant) if g.get("tenantless") else None
    if refused is not None:
        return response_modes.deliver(_error_redirect(refused), refused.redirect_uri)
    strength = required_strength(grant.client)
    if principal is not None and strength is not None:
        principal.acr = strength.id
        if not strength.meets(session.factors, session.aaguid):
            principal = None  # step up: sign in again until the strength is met
    if principal is not None:
        return _respond_unless_unconsented(grant, principal)
    authorize_uri = (
        request.url if request.method == "GET" else add_params_to_uri(request.base_url, request.form.items())
    )
    if g.get("tenantless"):
        return home_realm.discover(grant.client, authorize_uri, request.values.get("login_hint"))
    named = home_realm.named_account(request.values.get("login_hint"))
    txn = flow.start(
        g.tenant,
        client_id=grant.client.id,
        authorize_uri=authorize_uri,
        login_hint=request.values.get("login_hint") or (session.user.upn if session else None),
        tenantless=named is not None,
        strength_id=strength.id if strength else None,
    )
    if named is not None:  # named at /common or /organizations: straight on to that account's first step
        refusal = flow.identify(txn, named)
        if refusal is not None:
            return render_template("signin/refused.html", message=refusal), 400
        choice = flow.default_choice(txn)
        if choice is not None:
            return redirect(url_for("signin.method_step", tenant=g.tenant_ref, name=choice.name))
    return redirect(url_for("signin.start", tenant=g.tenant_ref))


def _respond_unless_unconsented(grant, principal):
    """A user of another tenant cannot grant a multi-tenant app more than sign-in and User.Read: the app hears
    consent_required (AADSTS65001) instead of getting a code that no token would come of."""
    from authlib.oidc.core.errors import ConsentRequiredError

    try:
        tokens.refuse_unconsented(
            grant.client,
            principal.user.tenant_id,
            grant.request.payload.scope,
            ConsentRequiredError,
            redirect_uri=grant.redirect_uri,
            state=grant.request.payload.state,
        )
    except OAuth2Error as error:
        return response_modes.deliver(_error_redirect(error), error.redirect_uri)
    return _respond(grant, principal)


def _respond(grant, principal):
    response = server.create_authorization_response(grant_user=principal, grant=grant)
    return response_modes.deliver(response, grant.redirect_uri)


def _malformed_basic():
    """`Authorization: Basic` that is empty, not Base64 or not UTF-8 is a client that failed to authenticate
    (invalid_client), refused here: Authlib's parser raises on it."""
    scheme, _sep, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        decoded = ""
    if decoded.strip(": "):
        return None
    from authlib.oauth2.rfc6749.errors import InvalidClientError

    error = InvalidClientError(
        description="The Authorization header's Basic credentials are empty or malformed: "
        "send base64(client_id:client_secret) in UTF-8."
    )
    error.status_code = 401
    return server.handle_error_response(None, error)


@bp.post("/<tenant>/oauth2/v2.0/token")
def token():
    return _malformed_basic() or server.create_token_response()


@bp.post("/<tenant>/oauth2/v2.0/devicecode")
def devicecode():
    from .grants import device

    try:
        return jsonify(device.authorization_response())
    except OAuth2Error as error:
        return entra_answers.body(error), error.status_code or 400, entra_answers.response_headers()


@bp.post("/<tenant>/oauth2/v2.0/revoke")
def revoke():
    return _malformed_basic() or server.create_endpoint_response("revocation")


@bp.post("/<tenant>/oauth2/v2.0/introspect")
def introspect():
    return _malformed_basic() or server.create_endpoint_response("introspection")


@bp.route("/<tenant>/oauth2/v2.0/logout", methods=["GET", "POST"])
def logout():
    """RP-Initiated Logout. Without a valid `id_token_hint` for this browser's session here (missing, from
    another tenant, or naming another session), the user confirms first: a link on another site cannot sign
    them out. Only this browser's session in this tenant ends, never one the hint names elsewhere."""
    try:
        end_request = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return render_template(
            "error.html", title=_("Sign-out request not valid"), message=error.description, code=error.error
        ), 400
    if _logout_needs_confirmation(end_request):
        if request.method != "POST" or request.form.get("confirm") != "yes":
            fields = {k: v for k, v in request.values.items() if k in LOGOUT_FIELDS}
            return render_template("signin/confirm_signout.html", fields=fields)
        csrf.protect()  # the confirmation is this server's own form
    response = server.create_endpoint_response("end_session", end_request)
    if response is None:  # signed out; no registered post-logout URI to go back to
        return render_template("signin/signed_out.html")
    return response


LOGOUT_FIELDS = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id", "logout_hint", "ui_locales")


def _logout_needs_confirmation(end_request) -> bool:
    session = sessions.current(g.tenant)
    if session is None:
        return False  # nothing to end in this browser
    claims = end_request.id_token_claims or {}
    return not (claims.get("iss") == naming.issuer(g.tenant) and claims.get("sid") == session.id)


@bp.route("/<tenant>/oidc/userinfo", methods=["GET", "POST"])
def userinfo():
    from ..directory.models import User

    found = bearer.active_token()
    user = db.session.get(User, found.user_id) if found and found.user_id and found.tenant_id == g.tenant.id else None
    if user is None or not user.account_enabled:
        response = jsonify(error="invalid_token", error_description="The access token is missing, invalid or expired.")
        response.status_code = 401
        return bearer.challenge(response)
    info = {"sub": naming.pairwise_sub(user.id, found.client_id)}
    info.update(claim_rules.user_claims(user, tokens.granted_scope(found)))
    return jsonify(info)
