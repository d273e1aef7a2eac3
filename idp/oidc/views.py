"""OpenID Connect endpoints, shaped like Entra's v2.0 endpoints under /{tenant}/."""
import json
import re
from datetime import timedelta

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session as flask_session, url_for

from .. import cache, clock
from ..extensions import csrf, db
from ..policy import strengths
from ..signin import flow, sessions
from . import claims as claim_rules
from . import keys, tokens
from .server import server

bp = Blueprint("oidc", __name__)
csrf.exempt(bp)  # token-style endpoints authenticate the client; the authorize step has no form

# RFC 6749 allows only visible ASCII (VSCHAR) in these parameters; refusing anything else at the door keeps
# hostile bytes out of error messages, logs and redirects.
VSCHAR = re.compile(r"[\x20-\x7e]{0,4096}")
CHECKED = frozenset((
    "client_id", "response_type", "scope", "state", "code_challenge", "code_challenge_method", "prompt",
    "response_mode", "nonce", "max_age", "redirect_uri", "grant_type", "code", "code_verifier", "refresh_token",
    "token", "token_type_hint", "post_logout_redirect_uri", "id_token_hint", "client_secret", "acr_values"))


@bp.before_request
def refuse_malformed_parameters():
    for name, value in request.values.items(multi=True):
        if name in CHECKED and not VSCHAR.fullmatch(value):
            description = f"The parameter '{name}' contains characters that are not allowed, or is too long."
            if request.endpoint in ("oidc.token", "oidc.introspect", "oidc.revoke"):
                return jsonify(error="invalid_request", error_description=description), 400
            return render_template("error.html", title="This request is not valid", message=description,
                                   code="invalid_request"), 400
    return None


def _endpoint(name: str) -> str:
    return f"{tokens.base_url()}{url_for(name, tenant=g.tenant.id)}"


def _json_document(body: bytes):
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/<tenant>/v2.0/.well-known/openid-configuration")
def discovery():
    """Built once per tenant and host a minute (it names the host it was asked on), served as stored bytes."""
    key = (g.tenant.id, request.url_root)
    return _json_document(cache.named("discovery", ttl=60).get(key, lambda: json.dumps(_discovery()).encode()))


def _discovery() -> dict:
    return {
        "issuer": tokens.issuer(g.tenant),
        "authorization_endpoint": _endpoint("oidc.authorize"),
        "token_endpoint": _endpoint("oidc.token"),
        "userinfo_endpoint": _endpoint("oidc.userinfo"),
        "jwks_uri": _endpoint("oidc.jwks"),
        "end_session_endpoint": _endpoint("oidc.logout"),
        "revocation_endpoint": _endpoint("oidc.revoke"),
        "introspection_endpoint": _endpoint("oidc.introspect"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(keys.ALGORITHMS),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "at_hash", "amr",
                             "acr", "sid", "oid", "tid", "preferred_username", "name", "email", "ver"],
        "prompt_values_supported": ["none", "login"],
        "acr_values_supported": ["mfa", "sfa", *strengths.BUILT_IN],  # plus the tenant's custom strength ids
        "authorization_response_iss_parameter_supported": True,
        "tenant_region_scope": None,
        "cloud_instance_name": request.host,
    }


@bp.get("/<tenant>/discovery/v2.0/keys")
def jwks():
    return _json_document(keys.jwks_document())


def _error_redirect(error: OAuth2Error):
    """Send an OAuth error back to the client, with `iss` (RFC 9207), or show it when there is no
    validated redirect URI to send it to."""
    if not error.redirect_uri:
        return render_template("error.html", title="This sign-in request is not valid",
                               message=error.description or error.error, code=error.error), 400
    params = dict(error.get_body())
    params.pop("error_uri", None)
    params["iss"] = tokens.issuer(g.tenant)
    return redirect(add_params_to_uri(error.redirect_uri, params))


def _session_for(prompt: str, max_age: str | None):
    """The SSO session this authorization request may use without interaction, or None."""
    session = sessions.current(g.tenant)
    fresh = session is not None and flask_session.pop("fresh_signin", None) == session.id
    if session is None or fresh:
        return session
    if "login" in prompt.split():
        return None
    if max_age is not None:
        try:
            limit = int(max_age)
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
    cancelled = flask_session.pop("cancelled_signin", None)
    session = _session_for(request.values.get("prompt", ""), request.values.get("max_age"))
    principal = tokens.Principal(session.user, session) if session else None
    try:
        grant = server.get_consent_grant(end_user=principal)
    except OAuth2Error as error:
        return _error_redirect(error)
    if cancelled:
        return server.create_authorization_response(grant_user=None, grant=grant)
    strength = required_strength(grant.client)
    if principal is not None and strength is not None:
        principal.acr = strength.id
        if not strength.meets(session.factors, session.aaguid):
            principal = None  # step up: sign in again until the strength is met
    if principal is not None:
        return server.create_authorization_response(grant_user=principal, grant=grant)
    authorize_uri = request.url if request.method == "GET" else add_params_to_uri(request.base_url, request.form.items())
    flow.start(g.tenant, client_id=grant.client.id, authorize_uri=authorize_uri,
               login_hint=request.values.get("login_hint") or (session.user.upn if session else None),
               tenantless=g.get("tenantless", False), strength_id=strength.id if strength else None)
    return redirect(url_for("signin.start", tenant=g.tenant_ref))


@bp.post("/<tenant>/oauth2/v2.0/token")
def token():
    return server.create_token_response()


@bp.post("/<tenant>/oauth2/v2.0/revoke")
def revoke():
    return server.create_endpoint_response("revocation")


@bp.post("/<tenant>/oauth2/v2.0/introspect")
def introspect():
    return server.create_endpoint_response("introspection")


@bp.route("/<tenant>/oauth2/v2.0/logout", methods=["GET", "POST"])
def logout():
    try:
        response = server.create_endpoint_response("end_session")
    except OAuth2Error as error:
        return render_template("error.html", title="Sign-out request not valid", message=error.description,
                               code=error.error), 400
    if response is not None and response.status_code >= 400:
        return render_template("error.html", title="Sign-out request not valid",
                               message=response.get_json().get("error_description"), code="invalid_request"), 400
    if response is None:  # signed out; no registered post-logout URI to go back to
        return render_template("signin/signed_out.html")
    return response


@bp.route("/<tenant>/oidc/userinfo", methods=["GET", "POST"])
def userinfo():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    found = tokens.active_access_token(value.strip()) if scheme.lower() == "bearer" else None
    if found is None or not found[1].user_id or found[1].tenant_id != g.tenant.id:
        response = jsonify(error="invalid_token", error_description="The access token is missing, invalid or expired.")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    claims, row = found
    from ..directory.models import User
    user = db.session.get(User, row.user_id)
    info = {"sub": tokens.pairwise_sub(user.id, row.client_id)}
    info.update(claim_rules.user_claims(user, row.scope))
    return jsonify(info)
