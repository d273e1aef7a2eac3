"""Smart lockout for first factors (passwords, passes), counted per typed username and per kind of location.

Like the MFA lockout, every attempt first claims a slot with one conditional UPDATE (failures plus attempts in
flight stay under the threshold), so however many guesses arrive at once only the threshold are checked; a
claimed slot is always settled, whatever the verifier does. As in Entra's smart lockout, attempts from familiar
locations (this browser signed in as the user before, or the user signed in from this address) and from
unfamiliar ones are counted apart: an attacker elsewhere cannot lock the owner out of their own browser.
Unknown usernames are counted exactly like real ones, so a lockout says nothing about who exists.
"""

import functools
import hashlib
from datetime import timedelta
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import DateTime, Select, bindparam, case, exists, func, or_, select, update

from .. import clock, urls
from ..extensions import db
from .models import SigninAttemptWindow as W, SigninSession, Step
from ..i18n.names import N_

LOCKED = N_("Too many attempts. Your account is locked for a few minutes to keep it safe; wait, then try again.")
DEVICE_COOKIE = "idp_device"
KNOWN_ADDRESS_DAYS = 90
DEVICE_USERS = 20  # users remembered per browser


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="familiar-device")


def _device_users() -> list:
    try:
        value = _device_serializer().loads(request.cookies.get(urls.cookie_name(DEVICE_COOKIE)) or "")
    except BadSignature:
        return []
    return value if isinstance(value, list) else []


def remember_device(user) -> None:
    """After a completed sign-in: this browser is a familiar location for the user from now on."""
    users = [user.id] + [u for u in _device_users() if u != user.id]
    g.familiar_device = users[:DEVICE_USERS]


def apply_device_cookie(response):
    users = g.pop("familiar_device", None)
    if users is not None:
        response.set_cookie(
            urls.cookie_name(DEVICE_COOKIE),
            _device_serializer().dumps(users),
            max_age=365 * 86400,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def familiar(txn) -> bool:
    if txn.user_id is None:
        return False
    if txn.user_id in _device_users():
        return True
    since = clock.now() - timedelta(days=KNOWN_ADDRESS_DAYS)
    return bool(request.remote_addr) and db.session.scalar(
        _signed_in_from(), {"user_id": txn.user_id, "ip": request.remote_addr, "since": since}
    )


# The statements of every first-factor attempt are built once, on first use (the mappers are configured by
# then), so that their compiled-cache keys are too.
@functools.cache
def _signed_in_from() -> Select:
    return select(
        exists().where(
            SigninSession.user_id == bindparam("user_id"),
            SigninSession.ip == bindparam("ip"),
            SigninSession.created_at > bindparam("since"),
        )
    )


def _key(txn) -> str:
    return _key_for(txn.tenant_id, txn.login_hint or "", "familiar" if familiar(txn) else "unfamiliar")


def _key_for(tenant_id: str, username: str, kind: str) -> str:
    return hashlib.sha256(f"{tenant_id}\n{username.lower()}\n{kind}".encode()).hexdigest()


KINDS = ("familiar", "unfamiliar")


def _user_keys(user) -> list[str]:
    """The counters a user's names are typed into: the UPN, and a guest's address (per location kind)."""
    names = {user.upn, *([user.mail] if user.mail else [])}
    return [_key_for(user.tenant_id, name, kind) for name in sorted(names) for kind in KINDS]


def state(user) -> dict:
    """What the console shows: failures counted now, and until when sign-in is refused (None: not locked)."""
    window = timedelta(seconds=current_app.config["IDP_SIGNIN_LOCKOUT_WINDOW"])
    threshold, now = current_app.config["IDP_SIGNIN_LOCKOUT_THRESHOLD"], clock.now()
    failures, locked_until = 0, None
    for row in db.session.scalars(select(W).where(W.key.in_(_user_keys(user)))):
        if row.window_started_at is None or row.window_started_at <= now - window:
            continue  # the window is over: the next attempt starts afresh
        failures = max(failures, row.failures)
        if row.failures + row.in_flight >= threshold:
            ends = row.window_started_at + window
            locked_until = max(locked_until or ends, ends)
    return {"failures": failures, "locked_until": locked_until, "threshold": threshold}


def unlock(user) -> None:
    """An administrator's manual unlock: every counter of the user's names starts again (the caller commits)."""
    db.session.execute(
        update(W)
        .where(W.key.in_(_user_keys(user)))
        .values(failures=0, window_started_at=None)
        .execution_options(synchronize_session=False)
    )


def _ensure(key: str) -> None:
    """The counter row exists afterwards: one INSERT that yields to a row already there (or created by a
    concurrent request)."""
    db.session.execute(_create_counter(db.engine.dialect.name), {"counter_key": key})


@functools.cache
def _create_counter(dialect_name: str):
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    values = {"key": bindparam("counter_key"), "failures": 0, "in_flight": 0}
    return insert(W).values(values).on_conflict_do_nothing(index_elements=["key"])


def claim(txn) -> str | None:
    """Take an attempt slot for this username and location kind: its key, or None when locked. One UPDATE:
    a window that is over starts again (which also frees the slots of a process that died mid-check)."""
    key, now = _key(txn), clock.now()
    _ensure(key)
    window = timedelta(seconds=current_app.config["IDP_SIGNIN_LOCKOUT_WINDOW"])
    parameters = {
        "counter_key": key,
        "now": now,
        "over_before": now - window,
        "threshold": current_app.config["IDP_SIGNIN_LOCKOUT_THRESHOLD"],
    }
    claimed = db.session.execute(_claim(), parameters).rowcount
    db.session.commit()
    return key if claimed == 1 else None


@functools.cache
def _claim() -> Any:
    """No counter row is ever loaded in a sign-in's session: nothing there to synchronize."""
    over, now = W.window_started_at <= bindparam("over_before"), bindparam("now", type_=DateTime())
    return (
        update(W)
        .where(W.key == bindparam("counter_key"), or_(over, W.failures + W.in_flight < bindparam("threshold")))
        .values(
            failures=case((over, 0), else_=W.failures),
            in_flight=case((over, 1), else_=W.in_flight + 1),
            window_started_at=case((over, now), else_=func.coalesce(W.window_started_at, now)),
        )
        .execution_options(synchronize_session=False)
    )


def settle(key: str, failed: bool) -> None:
    """Give the slot back; a failure stays counted until the window ends, a success clears the count. The
    caller's next commit (the sign-in log of this attempt) makes it durable."""
    db.session.execute(_settle(failed), {"counter_key": key})


@functools.cache
def _settle(failed: bool) -> Any:
    release = case((W.in_flight > 0, W.in_flight - 1), else_=0)
    return (
        update(W)
        .where(W.key == bindparam("counter_key"))
        .values(in_flight=release, failures=W.failures + 1 if failed else 0)
        .execution_options(synchronize_session=False)
    )


def counts(method, txn) -> bool:
    """First factors that are not MFA prompts (those have the MFA lockout) are counted."""
    return txn.state == Step.FIRST and not method.mfa_prompt
