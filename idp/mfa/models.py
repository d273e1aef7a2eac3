from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..directory.models import new_id
from ..extensions import db


class MfaSettings(db.Model):
    """A tenant's MFA settings: one JSON document per section (see settings.py for the sections)."""

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    section: Mapped[str] = mapped_column(String(32), primary_key=True)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class MfaUserState(db.Model):
    """Per user: the lockout counters, the last real MFA, and when remembered devices were revoked.
    Counters change only by conditional UPDATEs, so every server process sees and enforces the same numbers."""

    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    denials: Mapped[int] = mapped_column(Integer, default=0)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)  # attempts being checked right now
    window_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_mfa_at: Mapped[datetime | None] = mapped_column(DateTime)
    remember_revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    risk_level: Mapped[str] = mapped_column(String(16), default="none")  # none | low | medium | high
    risk_state: Mapped[str] = mapped_column(String(32), default="none")  # none | atRisk | dismissed
    risk_updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class MfaBlock(db.Model):
    """A user blocked from MFA (by an administrator, or automatically after a fraud report)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    upn: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
    blocked_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    blocked_by: Mapped[str] = mapped_column(String(320))  # an admin's UPN, or "Fraud report"
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    unblocked_at: Mapped[datetime | None] = mapped_column(DateTime)
    unblocked_by: Mapped[str | None] = mapped_column(String(320))
    unblock_reason: Mapped[str | None] = mapped_column(Text)

    def is_active(self, at: datetime | None = None) -> bool:
        at = at or clock.now()
        return self.unblocked_at is None and at < self.expires_at


class RiskDetection(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    risk_event_type: Mapped[str] = mapped_column(String(64))
    risk_level: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    detected_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class NamedLocation(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(256))
    ip_ranges: Mapped[list] = mapped_column(JSON, default=list)  # CIDR strings, IPv4 and IPv6
    is_trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
