from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ... import clock
from ...directory.models import new_id
from ...extensions import db


class AuthenticatorDevice(db.Model):
    """A paired authenticator: its public key signs every approval."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(Text)  # base64url SPKI DER, P-256
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuthenticatorPairing(db.Model):
    """A pairing code shown as a QR code in My Security Info; usable once, for ten minutes."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    device_id: Mapped[str | None] = mapped_column(String(36))  # set once a device paired with it
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class PushRequest(db.Model):
    """One sign-in's notification: the browser shows `number`, the device offers `choices`."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("authenticator_device.id", ondelete="CASCADE"), index=True)
    txn_id: Mapped[str | None] = mapped_column(String(36))
    number: Mapped[int] = mapped_column(Integer)
    choices: Mapped[list] = mapped_column(JSON)
    nonce: Mapped[str] = mapped_column(String(64))
    app_name: Mapped[str] = mapped_column(String(256))
    location: Mapped[str] = mapped_column(String(256))
    ip: Mapped[str | None] = mapped_column(String(64))
    #: pending -> approved | denied | wrongNumber | fraud (expired when nobody answered in time)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime)
