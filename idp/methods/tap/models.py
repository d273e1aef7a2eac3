from datetime import datetime, timedelta

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from ... import clock
from ...directory.models import User, new_id
from ...extensions import db


class TemporaryAccessPass(db.Model):
    """A user's pass. A user holds at most one live pass; a deleted one is kept (soft-deleted) so that
    sign-in can say it was deleted, until a new pass replaces it."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    start_at: Mapped[datetime] = mapped_column(DateTime)
    lifetime_minutes: Mapped[int] = mapped_column(Integer)
    is_usable_once: Mapped[bool] = mapped_column(Boolean)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(36))

    @property
    def ends_at(self) -> datetime:
        try:
            return self.start_at + timedelta(minutes=self.lifetime_minutes)
        except OverflowError:  # a row stored before startDateTime was bounded (year 9999)
            return datetime.max


#: the user's pass that has not been deleted (at most one), for the sign-in steps' joined load
User.live_temporary_access_pass = relationship(
    TemporaryAccessPass,
    primaryjoin=lambda: (User.id == foreign(TemporaryAccessPass.user_id)) & TemporaryAccessPass.deleted_at.is_(None),
    uselist=False,
    viewonly=True,
)
