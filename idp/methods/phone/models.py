from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ... import clock
from ...directory.models import new_id
from ...extensions import db


class PhoneMethod(db.Model):
    """A user's phone: one per type (mobile, alternateMobile, office)."""

    __table_args__ = (UniqueConstraint("user_id", "phone_type"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    phone_type: Mapped[str] = mapped_column(String(16))  # mobile | alternateMobile | office
    number: Mapped[str] = mapped_column(String(20))  # E.164
    extension: Mapped[str | None] = mapped_column(String(16))
    sms_sign_in: Mapped[bool] = mapped_column(default=False)  # SMS as a first factor (enableSmsSignIn)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class PhoneCode(db.Model):
    """A 6-digit code sent by text message: for a sign-in, or to prove a number while registering it."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # signin | register
    number: Mapped[str] = mapped_column(String(20))
    phone_type: Mapped[str] = mapped_column(String(16))
    extension: Mapped[str | None] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)


class PhoneCall(db.Model):
    """An MFA voice call and where its IVR stands."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    txn_id: Mapped[str | None] = mapped_column(String(36), index=True)
    number: Mapped[str] = mapped_column(String(20))
    phone_type: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16), default="en")  # which voice messages it plays
    provider_id: Mapped[str | None] = mapped_column(String(64))
    #: placed -> answered -> (confirm-block) -> verified | fraud | failed | no-answer | hung-up
    state: Mapped[str] = mapped_column(String(16), default="placed")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime)  # the sign-in that used its verification


class VoiceMessage(db.Model):
    """A custom voice message the tenant uploaded: replaces one standard script for users of its language."""

    __table_args__ = (UniqueConstraint("tenant_id", "message_type", "language"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    message_type: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(256))
    content_type: Mapped[str] = mapped_column(String(32))
    duration_ms: Mapped[int] = mapped_column(Integer)
    audio: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
