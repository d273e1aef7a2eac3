"""The device authorization grant (RFC 8628) as Entra serves it: `/{tenant}/oauth2/v2.0/devicecode`, a
verification page where the user enters the code and signs in with any method, and polling at the token
endpoint with `authorization_pending`, `slow_down`, `authorization_declined` and `expired_token`. A device code
gives tokens once."""

import secrets
from datetime import timedelta

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc8628.errors import AuthorizationPendingError, ExpiredTokenError, SlowDownError
from flask import Blueprint, current_app, g, redirect, render_template, request, session as flask_session, url_for
from sqlalchemy import select, update

from ... import clock, crypto
from ...extensions import db
from ...signin import flow, sessions
from ...signin.guard import login_required
from ...signin.models import SigninSession
from .. import entra_errors, naming, tokens
from ..clients import find_client, resolve_scope
from .models import DeviceCode

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"  # no vowels (no words), no 0/O or 1/I
LIFETIME = timedelta(minutes=15)

bp = Blueprint("device", __name__)


class AuthorizationDeclinedError(OAuth2Error):
    error = "authorization_declined"


def _user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:16]


def authorization_response():
    """POST /{tenant}/oauth2/v2.0/devicecode: a device code for a client of this tenant."""
    client = find_client(request.form.get("client_id"))
    if client is None or client.tenant_id != g.tenant.id:
        raise entra_errors.entra(InvalidClientError, 700016)
    scope = request.form.get("scope", "")
    if not scope:
        raise entra_errors.entra(InvalidRequestError, 90014, "Send the 'scope' parameter.")
    resolved = resolve_scope(client, scope)
    unknown = set(resolved.scopes) - set(client.scopes)
    if unknown:
        raise entra_errors.entra(InvalidRequestError, 65001, f"Not granted: {' '.join(sorted(unknown))}")
    device_code, user_code = secrets.token_urlsafe(48), _user_code()
    interval = current_app.config.get("IDP_DEVICE_CODE_INTERVAL", 5)
    db.session.add(
        DeviceCode(
            device_code_hash=crypto.digest(device_code),
            user_code_hash=crypto.digest(user_code),
            tenant_id=client.tenant_id,
            client_id=client.id,
            scope=scope,
            interval=interval,
            expires_at=clock.now() + LIFETIME,
        )
    )
    db.session.commit()
    uri = f"{naming.base_url()}{url_for('device.verify', tenant=client.tenant_id)}"
    return {
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": uri,
        "expires_in": int(LIFETIME.total_seconds()),
        "interval": interval,
        "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
        "to authenticate.",
    }


class DeviceCodeGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    GRANT_TYPE = GRANT_TYPE
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post", "none"]

    def validate_token_request(self):
        code = self.request.payload.data.get("device_code")
        if not code:
            raise entra_errors.entra(InvalidRequestError, 90014, "Send the 'device_code' parameter.")
        client = self.authenticate_token_endpoint_client()
        row = db.session.scalar(select(DeviceCode).where(DeviceCode.device_code_hash == crypto.digest(code[:256])))
        if row is None or row.client_id != client.id:
            raise entra_errors.entra(InvalidGrantError, 70000, "The device code is not valid for this app.")
        self.request.client = client
        self.request.user = self._claim(row)
        self.device_row = row

    @staticmethod
    def _claim(row: DeviceCode) -> tokens.Principal:
        now = clock.now()
        if now >= row.expires_at:
            raise entra_errors.entra(ExpiredTokenError, 70019)
        if row.status == "declined":
            raise entra_errors.entra(AuthorizationDeclinedError, 500021)
        if row.status == "pending":
            too_soon = now - timedelta(seconds=row.interval)
            polled = db.session.execute(
                update(DeviceCode)
                .where(
                    DeviceCode.id == row.id,
                    (DeviceCode.last_polled_at.is_(None)) | (DeviceCode.last_polled_at <= too_soon),
                )
                .values(last_polled_at=now)
            ).rowcount
            db.session.commit()
            if not polled:
                raise entra_errors.entra(SlowDownError, 70016, f"Poll at most every {row.interval} seconds.")
            raise entra_errors.entra(AuthorizationPendingError, 70016)
        redeemed = db.session.execute(
            update(DeviceCode).where(DeviceCode.id == row.id, DeviceCode.status == "approved").values(status="redeemed")
        ).rowcount
        db.session.commit()
        if redeemed != 1:
            raise entra_errors.entra(InvalidGrantError, 54005, "The device code was already redeemed.")
        session = db.session.get(SigninSession, row.session_id)
        if session is None or not tokens.session_allows_tokens(session):
            raise entra_errors.entra(InvalidGrantError, 50173)
        return tokens.Principal(session.user, session, row.acr)

    @hooked  # the ID token extension adds the id_token after this
    def create_token_response(self):
        scope = self.device_row.scope
        token = self.generate_token(
            user=self.request.user, scope=scope, include_refresh_token="offline_access" in scope.split()
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


# --- the verification page -------------------------------------------------------------------------

FLOW_KEY = "device_code"


def _pending(user_code: str) -> DeviceCode | None:
    row = db.session.scalar(select(DeviceCode).where(DeviceCode.user_code_hash == crypto.digest(_normalise(user_code))))
    if row is None or row.tenant_id != g.tenant.id or row.status != "pending" or clock.now() >= row.expires_at:
        return None
    return row


@bp.route("/<tenant>/devicelogin", methods=["GET", "POST"])
def verify():
    """Enter the code shown on the device, then sign in (any method the flow offers) and confirm."""
    if request.method == "POST":
        row = _pending(request.form.get("user_code", "")[:32])
        if row is None:
            return render_template(
                "oidc/device_code.html",
                error="That code is not valid or has expired. Check the code on your device, or start again there.",
            ), 400
        flask_session[FLOW_KEY] = row.id
        if sessions.current(g.tenant) is not None:
            return redirect(url_for("device.confirm", tenant=g.tenant_ref))
        flow.start(g.tenant, client_id=row.client_id, return_to=url_for("device.confirm", tenant=g.tenant_ref))
        return redirect(url_for("signin.start", tenant=g.tenant_ref))
    return render_template("oidc/device_code.html", error=None)


@bp.route("/<tenant>/devicelogin/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    row = db.session.get(DeviceCode, flask_session.get(FLOW_KEY) or "")
    if row is None or row.tenant_id != g.tenant.id or row.status != "pending" or clock.now() >= row.expires_at:
        return render_template(
            "oidc/device_code.html",
            error="This device sign-in has ended or was already used. Start again on your device.",
        ), 400
    client = find_client(row.client_id)
    if request.method == "GET":
        return render_template("oidc/device_confirm.html", client=client, user=g.sso.user)
    approve = request.form.get("decision") == "continue"
    values = (
        {"status": "approved", "user_id": g.sso.user_id, "session_id": g.sso.id, "acr": g.sso.acr}
        if approve
        else {"status": "declined"}
    )
    done = db.session.execute(
        update(DeviceCode).where(DeviceCode.id == row.id, DeviceCode.status == "pending").values(**values)
    ).rowcount
    db.session.commit()
    flask_session.pop(FLOW_KEY, None)
    if not done:
        return render_template("oidc/device_code.html", error="This device sign-in was already answered."), 409
    return render_template("oidc/device_done.html", approved=approve, client=client)
