from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..directory.models import User, new_id
from ..extensions import db


class SigninTransaction(db.Model):
    """One interactive sign-in in progress, referenced from the browser by the signed flow cookie."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    authorize_uri: Mapped[str | None] = mapped_column(Text)  # the original /authorize request, replayed at the end
    return_to: Mapped[str | None] = mapped_column(Text)  # a local page to go back to (e.g. My Security Info)
    user_id: Mapped[str | None] = mapped_column(String(36))
    login_hint: Mapped[str | None] = mapped_column(String(320))  # the UPN as typed (also for unknown users)
    methods_done: Mapped[list] = mapped_column(JSON, default=list)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    mfa_reason: Mapped[str | None] = mapped_column(Text)  # why MFA was (not) required
    not_after: Mapped[datetime | None] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16), default="identify")  # identify | first | mfa | kmsi | done
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # per-method scratch (challenges, pending ids)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User | None] = relationship(primaryjoin="foreign(SigninTransaction.user_id) == User.id",
                                             viewonly=True)


class SigninSession(db.Model):
    """A completed sign-in: the SSO session behind the browser cookie and every token issued from it."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime] = mapped_column(DateTime)
    methods: Mapped[list] = mapped_column(JSON, default=list)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    mfa_at: Mapped[datetime | None] = mapped_column(DateTime)
    credential_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. the TAP id that signed in
    factors: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # strength factors proved
    aaguid: Mapped[str | None] = mapped_column(String(36))  # the passkey model used, if any
    mfa_remembered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # MFA via a remembered device
    not_after: Mapped[datetime | None] = mapped_column(DateTime)  # hard cap on the session and its tokens
    persistent: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    user: Mapped[User] = relationship()

    def is_active(self, at: datetime | None = None) -> bool:
        at = at or clock.now()
        return self.revoked_at is None and at < self.ends_at

    @property
    def ends_at(self) -> datetime:
        return min(self.expires_at, self.not_after) if self.not_after else self.expires_at
