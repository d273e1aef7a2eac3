"""SSO sessions and their browser cookie (one per tenant, signed, HttpOnly)."""
from datetime import timedelta

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update

from .. import clock
from ..extensions import db
from .models import SigninSession

COOKIE_PREFIX = "idp_sso_"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="sso-session")


def cookie_name(tenant_id: str) -> str:
    return COOKIE_PREFIX + tenant_id


def current(tenant) -> SigninSession | None:
    """The browser's live SSO session in `tenant`, if any."""
    raw = request.cookies.get(cookie_name(tenant.id))
    if not raw:
        return None
    try:
        session_id = _serializer().loads(raw)
    except BadSignature:
        return None
    session = db.session.get(SigninSession, session_id)
    if session is None or session.tenant_id != tenant.id or not session.is_active():
        return None
    if not session.user.account_enabled:
        return None
    return session


def create(*, tenant_id, user, methods, amr, acr, mfa, not_after, credential_ref, persistent) -> SigninSession:
    now = clock.now()
    lifetime = current_app.config["IDP_SSO_PERSISTENT_LIFETIME" if persistent else "IDP_SSO_LIFETIME"]
    session = SigninSession(tenant_id=tenant_id, user_id=user.id, auth_time=now, methods=list(methods),
                            amr=list(amr), acr=acr, mfa_at=now if mfa else None, not_after=not_after,
                            credential_ref=credential_ref, persistent=persistent,
                            expires_at=now + timedelta(seconds=lifetime), ip=request.remote_addr)
    db.session.add(session)
    db.session.flush()
    schedule_cookie(session)
    return session


def schedule_cookie(session: SigninSession) -> None:
    g.setdefault("sso_cookie_ops", []).append(("set", session))


def end_current(tenant, hinted_session_id: str | None = None) -> None:
    """Sign the browser out of `tenant`: revoke its session (and so every token issued from it)."""
    session = current(tenant)
    ids = {s for s in (session.id if session else None, hinted_session_id) if s}
    if ids:
        db.session.execute(update(SigninSession).where(SigninSession.id.in_(ids), SigninSession.revoked_at.is_(None))
                           .values(revoked_at=clock.now()))
        db.session.commit()
    g.setdefault("sso_cookie_ops", []).append(("clear", tenant.id))


def revoke_sessions(*criteria) -> int:
    """Revoke matching sessions (e.g. those signed in with a deleted TAP); the caller commits."""
    return db.session.execute(update(SigninSession).where(*criteria, SigninSession.revoked_at.is_(None))
                              .values(revoked_at=clock.now())).rowcount


def apply_cookie_ops(response):
    """after_request: write the cookie changes the request scheduled."""
    secure = request.is_secure
    for op, value in g.pop("sso_cookie_ops", []):
        if op == "clear":
            response.delete_cookie(cookie_name(value), httponly=True, secure=secure, samesite="Lax")
            continue
        max_age = None
        if value.persistent:
            max_age = int((value.ends_at - clock.now()).total_seconds())
        response.set_cookie(cookie_name(value.tenant_id), _serializer().dumps(value.id), max_age=max_age,
                            httponly=True, secure=secure, samesite="Lax")
    return response


def login_required(view):
    """For pages of this server (console, My Security Info): the browser's session in g.tenant, or a
    sign-in that comes back here. The view receives the session as g.sso."""
    from functools import wraps

    from flask import redirect, url_for

    @wraps(view)
    def wrapper(**kwargs):
        session = current(g.tenant)
        if session is None:
            from . import flow
            flow.start(g.tenant, return_to=request.full_path if request.method == "GET" else request.path)
            return redirect(url_for("signin.start", tenant=g.tenant_ref))
        g.sso = session
        return view(**kwargs)
    return wrapper
