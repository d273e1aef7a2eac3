"""Blocking users from MFA: by an administrator (with a reason) or after a fraud report; 90 days at most."""

import functools
from datetime import timedelta

from sqlalchemy import Select, bindparam, select

from ..errors import ServiceError
from .. import clock
from ..extensions import db
from .models import MfaBlock
from ..i18n.names import N_

BLOCK_DAYS = 90
BLOCKED = N_("Your account is blocked from multifactor authentication. Contact your administrator.")


ADMIN_TARGET = N_(
    "This user holds an administrator role: only a Global Administrator or a Privileged Authentication "
    "Administrator may block them from MFA."
)


def may_block(caller, user) -> bool:
    """The target rule of every admin action: a user who holds a role is blocked only by a Global or a
    Privileged Authentication Administrator (an app holds no role, so never), else blocking would lock the
    tenant's owners out."""
    from ..directory.models import Roles

    return not user.is_admin or (not caller.is_app and bool(caller.roles & Roles.PRIVILEGED_AUTH_ADMINS))


class BlockError(ServiceError, ValueError):
    """A refused block or unblock."""


class AlreadyBlocked(BlockError):
    """The user is blocked already: the block stands as it is (its reason is not replaced)."""

    status = 409


def active_block(user) -> MfaBlock | None:
    return db.session.scalar(_active_block(), {"user_id": user.id, "now": clock.now()})


@functools.cache
def _active_block() -> Select:
    """Built once, on first use (the mappers are configured by then), so its compiled-cache key is too: each
    MFA step of a sign-in asks."""
    return (
        select(MfaBlock)
        .where(
            MfaBlock.user_id == bindparam("user_id"),
            MfaBlock.unblocked_at.is_(None),
            MfaBlock.expires_at > bindparam("now"),
        )
        .order_by(MfaBlock.blocked_at.desc())
        .limit(1)
    )


def block(user, reason: str, by: str) -> MfaBlock:
    reason = (reason or "").strip()
    if not reason:
        raise BlockError("A reason is required to block a user.", reason_id="block.reason_needed")
    existing = active_block(user)
    if existing is not None:
        raise AlreadyBlocked(
            f"{user.upn} is already blocked from MFA (since {clock.iso(existing.blocked_at)}, "
            f"until {clock.iso(existing.expires_at)}). Unblock first to block with a new reason.",
            reason_id="block.already",
            values={"upn": user.upn, "until": existing.expires_at},
        )
    row = MfaBlock(
        tenant_id=user.tenant_id,
        user_id=user.id,
        upn=user.upn,
        reason=reason[:1000],
        blocked_by=by[:320],
        expires_at=clock.now() + timedelta(days=BLOCK_DAYS),
    )
    db.session.add(row)
    db.session.flush()
    return row


def unblock(row: MfaBlock, reason: str, by: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise BlockError("A reason is required to unblock a user.", reason_id="block.unblock_reason_needed")
    if not row.is_active():
        raise BlockError("This block is no longer active.", reason_id="block.inactive")
    row.unblocked_at, row.unblocked_by, row.unblock_reason = clock.now(), by[:320], reason[:1000]


def listing(tenant_id: str) -> list[MfaBlock]:
    return list(
        db.session.scalars(
            select(MfaBlock).where(MfaBlock.tenant_id == tenant_id).order_by(MfaBlock.blocked_at.desc()).limit(500)
        )
    )


def guard(txn, user) -> str | None:
    return BLOCKED if active_block(user) else None
