"""The tenant-free endpoints an OIDC client reads before it signs anyone in: the discovery document, the signing
keys, home realm discovery, and the page an AADSTS code's `error_uri` points to. Routes of the `oidc` blueprint."""

import json

from flask import current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from .. import cache
from ..policy import strengths
from . import entra_errors, keys, naming, response_modes
from .views import bp


def _endpoint(name: str) -> str:
    return f"{naming.base_url()}{url_for(name, tenant=g.get('tenantless') or g.tenant.id)}"


def _json_document(body: bytes):
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/<tenant>/v2.0/.well-known/openid-configuration")
def discovery():
    """Built once per tenant and host a minute (it names the host it was asked on), served as stored bytes."""
    key = (g.get("tenantless") or g.tenant.id, request.url_root)
    return _json_document(cache.named("discovery", ttl=60).get(key, lambda: json.dumps(_discovery()).encode()))


def _discovery() -> dict:
    # one literal, the document itself: long because the metadata is, not because it does much
    return {
        # multi-tenant authorities publish Entra's template: each token's `iss` names its own tenant
        "issuer": naming.issuer("{tenantid}") if g.get("tenantless") else naming.issuer(g.tenant),
        "authorization_endpoint": _endpoint("oidc.authorize"),
        "token_endpoint": _endpoint("oidc.token"),
        "device_authorization_endpoint": _endpoint("oidc.devicecode"),
        "userinfo_endpoint": _endpoint("oidc.userinfo"),
        "jwks_uri": _endpoint("oidc.jwks"),
        "end_session_endpoint": _endpoint("oidc.logout"),
        "revocation_endpoint": _endpoint("oidc.revoke"),
        "introspection_endpoint": _endpoint("oidc.introspect"),
        "response_types_supported": ["code", "id_token", "code id_token"],
        "response_modes_supported": list(response_modes.MODES),
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "implicit",
        ],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(keys.ALGORITHMS),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nbf",
            "auth_time",
            "nonce",
            "at_hash",
            "amr",
            "acr",
            "sid",
            "oid",
            "tid",
            "preferred_username",
            "name",
            "email",
            "ver",
        ],
        "prompt_values_supported": ["none", "login"],
        "acr_values_supported": ["mfa", "sfa", *strengths.BUILT_IN],  # plus the tenant's custom strength ids
        "authorization_response_iss_parameter_supported": True,
        "tenant_region_scope": None,
        "cloud_instance_name": request.host,
    }


@bp.get("/<tenant>/discovery/v2.0/keys")
def jwks():
    return _json_document(keys.jwks_document())


@bp.get("/error")
def error_lookup():
    """What an AADSTS code means (the `error_uri` of every error answer points here)."""
    from werkzeug.exceptions import NotFound

    try:
        name, text = entra_errors.CODES[int(request.args.get("code", "").removeprefix("AADSTS")[:10])]
    except (ValueError, KeyError):
        raise NotFound(_("This server does not use that error code.")) from None
    return render_template("error.html", title=name, message=text, code=f"AADSTS{request.args['code']}")


@bp.get("/common/userrealm/<path:username>")
def user_realm(username):
    """Home realm discovery, which MSAL asks before ROPC: every domain here is a managed (cloud) one."""
    from ..directory import service as directory

    domain = username.rpartition("@")[2][:255].lower()
    known = directory.find_tenant(domain) is not None if domain else False
    return jsonify(
        ver="1.0",
        account_type="Managed" if known else "Unknown",
        domain_name=domain,
        cloud_instance_name=request.host,
        cloud_audience_urn="urn:federation:MicrosoftOnline",
    )
