"""Remember MFA on trusted devices: a signed, persistent cookie bound to the user, for N days.

Valid only while younger than N days and issued after the user's remembered devices were last revoked.
A refresh token from a remembered sign-in is redeemable only while the user's last real MFA is within N days.
"""

from datetime import timedelta

from authlib.oauth2.rfc6749.errors import InvalidGrantError
from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .. import clock, urls
from ..extensions import db
from ..signin.hooks import MfaDecision
from . import settings
from .models import MfaUserState
from .state import ensure
from ..i18n.names import N_

COOKIE_PREFIX = "idp_mfa_"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="remember-mfa")


def cookie_name(tenant_id: str) -> str:
    return urls.cookie_name(COOKIE_PREFIX + tenant_id)


def days_offered(user) -> int | None:
    """How many days the MFA page may offer to remember this device for (None: not offered)."""
    config = settings.get(user.tenant_id, "rememberMfa")
    if not config["isEnabled"] or user.is_external_guest:  # never offered to B2B guests
        return None
    return config["days"]


def remember_device(user) -> None:
    days = days_offered(user)
    if days:
        value = _serializer().dumps({"u": user.id, "t": clock.timestamp()})
        g.setdefault("remember_mfa_cookies", []).append((cookie_name(user.tenant_id), value, days * 86400))


def _remembered(user) -> bool:
    days = days_offered(user)
    raw = request.cookies.get(cookie_name(user.tenant_id))
    if not days or not raw:
        return False
    try:
        data = _serializer().loads(raw, max_age=days * 86400)
    except (BadSignature, SignatureExpired):
        return False
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("t"), (int, float)):
        return False
    issued = data["t"]
    if clock.timestamp() - issued > days * 86400:  # the injectable clock, too
        return False
    state = db.session.get(MfaUserState, user.id)
    revoked = state.remember_revoked_at if state else None
    return revoked is None or issued > clock.to_epoch(revoked)


def remembered_device(txn) -> MfaDecision | None:
    user = txn.user
    if user is None or not _remembered(user):
        return None
    txn.mfa_remembered = True
    return MfaDecision(False, N_("MFA was remembered on this device"))


def revoke(user) -> None:
    """Invalidate every remembered device of this user at once."""
    ensure(user).remember_revoked_at = clock.now()


def refresh_rule(session, refresh_token) -> None:
    if not getattr(session, "mfa_remembered", False):
        return
    days = settings.get(session.tenant_id, "rememberMfa")["days"]
    state = db.session.get(MfaUserState, session.user_id)
    if state is None or state.last_mfa_at is None or clock.now() - state.last_mfa_at > timedelta(days=days):
        raise InvalidGrantError(
            "This sign-in relied on a remembered device and the last multifactor authentication "
            f"is more than {days} days old; sign in again."
        )


def apply_cookies(response):
    for name, value, max_age in g.pop("remember_mfa_cookies", []):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            path="/",
        )
    return response
