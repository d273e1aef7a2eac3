"""SSO sessions and their browser cookie (one per tenant, signed, HttpOnly)."""

import functools
from datetime import timedelta
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.util import identity_key

from .. import clock, urls
from ..directory.models import User
from ..extensions import db
from .models import SigninSession

COOKIE_PREFIX = "idp_sso_"


#: callables (session) -> datetime | None: until when a session signed in with a strong temporary credential
#: (a TAP) may register methods without a fresh MFA. Slices contribute them through idp.wiring.
registration_windows: list = []
#: callables (ids of the sessions just revoked) and (user whose sessions and tokens were all revoked): the OIDC
#: server voids the tokens issued from them (`idp.oidc.signout`, installed by idp.wiring; sessions know no tokens)
sessions_revoked_hooks: list = []
user_revoked_hooks: list = []


def registration_deadline(session: SigninSession):
    """The registration window of this session's credential, or None when no slice grants one."""
    for window in registration_windows:
        deadline = window(session)
        if deadline is not None:
            return deadline
    return None


def _serializer() -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@functools.cache
def _serializer_for(secret_key: str) -> URLSafeSerializer:
    """One per key: it holds no request state, and the authorize and sign-in steps each ask for it."""
    return URLSafeSerializer(secret_key, salt="sso-session")


def cookie_name(tenant_id: str) -> str:
    return urls.cookie_name(COOKIE_PREFIX + tenant_id)


def current(tenant) -> SigninSession | None:
    """The browser's live SSO session in `tenant`, if any."""
    raw = request.cookies.get(cookie_name(tenant.id))
    if not raw:
        return None
    try:
        session_id = _serializer().loads(raw)
    except BadSignature:
        return None
    session = load(session_id)
    if session is None or session.tenant_id != tenant.id or not session.is_active():
        return None
    if not session.user.account_enabled:
        return None
    return session


def load(session_id: str | None) -> SigninSession | None:
    """A session with its user and the user's roles, in one joined query (every use reads all three)."""
    if not session_id:
        return None
    if identity_key(SigninSession, session_id) in db.session.identity_map:
        return db.session.get(SigninSession, session_id)
    return db.session.execute(_with_user_by_id(), {"session_id": session_id}).unique().scalar_one_or_none()


@functools.cache
def _with_user_by_id() -> Select:
    """Built once: a statement keeps its compiled-cache key, so it is not rebuilt and keyed again on each load."""
    return select(SigninSession).where(SigninSession.id == bindparam("session_id")).options(with_user())


def with_user(relationship: Any = None) -> Any:
    """The loader option that brings a session's user and roles along (from `relationship`, or the session
    itself when None)."""
    session = joinedload(relationship) if relationship is not None else None
    user = session.joinedload(SigninSession.user) if session is not None else joinedload(SigninSession.user)
    return user.joinedload(User.role_assignments)


def create(*, tenant_id, user, methods, amr, acr, mfa, not_after, credential_ref, persistent, **proof) -> SigninSession:
    """A new SSO session; `proof` holds what the sign-in proved beyond its methods (strength factors, the
    passkey model, a remembered MFA), written with the same INSERT."""
    now = clock.now()
    lifetime = current_app.config["IDP_SSO_PERSISTENT_LIFETIME" if persistent else "IDP_SSO_LIFETIME"]
    session = SigninSession(
        tenant_id=tenant_id,
        user_id=user.id,
        auth_time=now,
        methods=list(methods),
        amr=list(amr),
        acr=acr,
        mfa_at=now if mfa else None,
        not_after=not_after,
        credential_ref=credential_ref,
        persistent=persistent,
        expires_at=now + timedelta(seconds=lifetime),
        ip=request.remote_addr,
        **proof,
    )
    db.session.add(session)
    db.session.flush()
    schedule_cookie(session)
    return session


def schedule_cookie(session: SigninSession) -> None:
    g.setdefault("sso_cookie_ops", []).append(("set", session))


def end_current(tenant) -> None:
    """Sign the browser out of `tenant`: revoke its session (and so every token issued from it)."""
    session = current(tenant)
    if session is not None:
        revoke_sessions(SigninSession.id == session.id)
        db.session.commit()
    g.setdefault("sso_cookie_ops", []).append(("clear", tenant.id))


def revoke_sessions(*criteria) -> int:
    """Revoke matching sessions (e.g. those signed in with a deleted TAP) and every access token issued from
    them (they are not stored: through the revocation state, by `sessions_revoked_hooks`); the caller commits."""
    ids = db.session.scalars(
        update(SigninSession)
        .where(*criteria, SigninSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .returning(SigninSession.id)
    ).all()
    for hook in sessions_revoked_hooks:
        hook(ids)
    return len(ids)


def apply_cookie_ops(response):
    """after_request: write the cookie changes the request scheduled."""
    secure = request.is_secure
    for op, value in g.pop("sso_cookie_ops", []):
        if op == "clear":
            response.delete_cookie(cookie_name(value), path="/", httponly=True, secure=secure, samesite="Lax")
            continue
        max_age = None
        if value.persistent:
            max_age = int((value.ends_at - clock.now()).total_seconds())
        response.set_cookie(
            cookie_name(value.tenant_id),
            _serializer().dumps(value.id),
            max_age=max_age,
            path="/",
            httponly=True,
            secure=secure,
            samesite="Lax",
        )
    return response


def revoke_user(user) -> None:
    """End every SSO session of `user` and every token issued to them (disabled, deleted, revokeSignInSessions);
    the caller commits."""
    revoke_sessions(SigninSession.user_id == user.id)
    for hook in user_revoked_hooks:
        hook(user)
