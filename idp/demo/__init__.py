"""A built-in relying party under /_demo/, in development mode only: signs in against the demo tenant with
Authlib's OAuth client (authorization code + PKCE over real HTTP to this server) and shows the ID token's claims.
It reaches the IdP at the configured base (urls.base_url), never at whatever Host a request named."""

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from .. import urls
from ..directory import service as directory
from ..extensions import db
from ..oidc.models import Client

bp = Blueprint("demo", __name__, url_prefix="/_demo")
DEMO_DOMAIN = "contoso.test"
DEMO_CLIENT_NAME = "Demo app"


@bp.before_request
def development_only():
    if not current_app.config.get("IDP_DEV_MODE"):
        abort(404)


def _demo_client():
    tenant = directory.find_tenant(DEMO_DOMAIN)
    client = tenant and db.session.scalar(
        select(Client).where(Client.tenant_id == tenant.id, Client.name == DEMO_CLIENT_NAME)
    )
    if client is None:
        abort(404, description="The demo tenant is not seeded: run `flask idp seed-demo`.")
    return tenant, client


def _endpoints(tenant) -> dict:
    base = urls.base_url()
    return {
        "authorize": f"{base}/{tenant.id}/oauth2/v2.0/authorize",
        "token": f"{base}/{tenant.id}/oauth2/v2.0/token",
        "jwks": f"{base}/{tenant.id}/discovery/v2.0/keys",
        "logout": f"{base}/{tenant.id}/oauth2/v2.0/logout",
        "issuer": f"{base}/{tenant.id}/v2.0",
    }


@bp.get("/")
def index():
    return render_template("demo/index.html", claims=session.get("demo_claims"))


@bp.post("/login")
def login():
    tenant, client = _demo_client()
    oauth = OAuth2Session(
        client.id, redirect_uri=urls.external_url("demo.callback"), scope="openid profile email offline_access"
    )
    verifier, nonce = generate_token(64), generate_token(20)
    uri, state = oauth.create_authorization_url(
        _endpoints(tenant)["authorize"],
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    session["demo_pending"] = {"state": state, "verifier": verifier, "nonce": nonce}
    return redirect(uri)


@bp.get("/callback")
def callback():
    tenant, client = _demo_client()
    pending = session.pop("demo_pending", None)
    if not pending or request.args.get("state") != pending["state"]:
        return render_template(
            "error.html", title="Demo sign-in failed", message="Unexpected or replayed response.", code="state_mismatch"
        ), 400
    if "error" in request.args:
        return render_template(
            "error.html",
            title="Demo sign-in failed",
            code=request.args["error"],
            message=request.args.get("error_description", ""),
        ), 400
    endpoints = _endpoints(tenant)
    oauth = OAuth2Session(client.id, redirect_uri=urls.external_url("demo.callback"), token_endpoint_auth_method="none")
    token = oauth.fetch_token(endpoints["token"], code=request.args["code"], code_verifier=pending["verifier"])
    keyset = KeySet.import_key_set(oauth.get(endpoints["jwks"]).json())
    claims = jwt.decode(token["id_token"], keyset).claims
    if (
        claims.get("iss") != endpoints["issuer"]
        or claims.get("aud") != client.id
        or claims.get("nonce") != pending["nonce"]
    ):
        abort(400, description="The ID token was not issued for the demo app.")
    session["demo_claims"] = claims
    session["demo_id_token"] = token["id_token"]
    return redirect(url_for("demo.index"))


@bp.post("/logout")
def logout():
    tenant, _ = _demo_client()
    id_token = session.pop("demo_id_token", None)
    session.pop("demo_claims", None)
    params = {"post_logout_redirect_uri": urls.external_url("demo.index")}
    if id_token:
        params["id_token_hint"] = id_token
    return redirect(add_params_to_uri(_endpoints(tenant)["logout"], params))
