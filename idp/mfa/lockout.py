"""Account lockout after repeated MFA denials.

Every MFA attempt first claims a slot with one conditional UPDATE: denials plus attempts in flight must stay
under the threshold. So however many wrong codes arrive at once, in however many processes, at most the
threshold of them are ever checked against the secret; the rest are refused without looking (no oracle).
"""

import functools
from datetime import timedelta
from typing import Any

from sqlalchemy import DateTime, and_, bindparam, case, func, or_, update

from .. import clock
from ..audit import record_audit
from ..extensions import db
from . import settings
from .models import MfaUserState as S
from .state import ensure_exists
from ..i18n.names import N_

LOCKED = N_("Your account is temporarily locked to prevent unauthorized use. Try again later.")


def _config(user) -> dict:
    return settings.get(user.tenant_id, "accountLockout")


def claim_attempt(txn, user) -> str | None:
    """An MFA guard: take an attempt slot, or say the account is locked."""
    config = _config(user)
    if not config["isEnabled"]:
        return None
    ensure_exists(user)
    now = clock.now()
    parameters = {
        "state_user_id": user.id,
        "now": now,
        "reset_before": now - timedelta(minutes=config["minutesUntilCounterReset"]),
        "threshold": config["mfaDenialsBeforeLockout"],
    }
    claimed = db.session.execute(_claim(), parameters).rowcount
    db.session.commit()
    return None if claimed == 1 else LOCKED


@functools.cache
def _claim() -> Any:
    """One UPDATE: a lock that has run out or a counting window that is over starts again (which also frees the
    slots of a process that died mid-check), and the slot is taken in the same statement. Built once, on first
    use, so its compiled-cache key is too; "fetch": a loaded row is matched by what the UPDATE returns, as its
    bound parameters cannot be evaluated in Python."""
    starts_again = or_(
        S.locked_until <= bindparam("now"),  # unlocked automatically
        and_(S.locked_until.is_(None), S.window_started_at <= bindparam("reset_before")),  # the counter resets
    )
    return (
        update(S)
        .where(
            S.user_id == bindparam("state_user_id"),
            or_(starts_again, and_(S.locked_until.is_(None), S.denials + S.in_flight < bindparam("threshold"))),
        )
        .values(
            in_flight=case((starts_again, 1), else_=S.in_flight + 1),
            denials=case((starts_again, 0), else_=S.denials),
            window_started_at=case((starts_again, None), else_=S.window_started_at),
            locked_until=case((starts_again, None), else_=S.locked_until),
        )
        .execution_options(synchronize_session="fetch")
    )


def locked_check(txn, user) -> str | None:
    """Whether the account is locked now, without claiming a slot (before a prompt is shown)."""
    row = db.session.get(S, user.id)
    return LOCKED if row and row.locked_until and row.locked_until > clock.now() else None


def _release():
    return case((S.in_flight > 0, S.in_flight - 1), else_=0)


def record_denial(txn, user, method) -> None:
    config = _config(user)
    ensure_exists(user)
    now = clock.now()
    db.session.execute(
        update(S)
        .where(S.user_id == user.id)
        .values(denials=S.denials + 1, in_flight=_release(), window_started_at=func.coalesce(S.window_started_at, now))
    )
    if config["isEnabled"]:
        locked = db.session.execute(
            update(S)
            .where(S.user_id == user.id, S.locked_until.is_(None), S.denials >= config["mfaDenialsBeforeLockout"])
            .values(locked_until=now + timedelta(minutes=config["minutesUntilUnlock"]))
        ).rowcount
        if locked:
            record_audit(
                tenant_id=user.tenant_id,
                actor_id=None,
                actor_type="system",
                activity="Account locked after MFA denials",
                target_type="user",
                target_id=user.id,
                after={"minutesUntilUnlock": config["minutesUntilUnlock"]},
            )
    db.session.commit()


def release(txn, user, method) -> None:
    """A prompt that failed without a denial gives its slot back."""
    db.session.execute(update(S).where(S.user_id == user.id).values(in_flight=_release()))
    db.session.commit()


def record_success(txn, user, method, form=None) -> None:
    """Settle the slot of a passed prompt; it commits with the rest of the step (the flow's commit)."""
    ensure_exists(user)
    db.session.execute(_success(), {"state_user_id": user.id, "now": clock.now()})


@functools.cache
def _success() -> Any:
    now = bindparam("now", type_=DateTime())
    return (
        update(S)
        .where(S.user_id == bindparam("state_user_id"))
        .values(in_flight=_release(), denials=0, window_started_at=None, last_mfa_at=now)
        .execution_options(synchronize_session="fetch")
    )


def status(user) -> dict:
    row = db.session.get(S, user.id)
    locked = bool(row and row.locked_until and row.locked_until > clock.now())
    return {
        "locked": locked,
        "lockedUntil": clock.iso(row.locked_until) if locked else None,
        "denials": row.denials if row else 0,
    }


def unlock(user) -> None:
    """An administrator's manual unlock: the denial count starts again (the caller commits)."""
    db.session.execute(
        update(S).where(S.user_id == user.id).values(denials=0, window_started_at=None, locked_until=None)
    )
