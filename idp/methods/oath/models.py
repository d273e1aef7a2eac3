from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ... import clock
from ...directory.models import User, new_id
from ...extensions import db


class HardwareOathDevice(db.Model):
    """A hardware token in the tenant's inventory. The secret is sealed and never read back out."""

    __table_args__ = (UniqueConstraint("tenant_id", "serial_number"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    serial_number: Mapped[str] = mapped_column(String(128))
    manufacturer: Mapped[str | None] = mapped_column(String(256))
    model: Mapped[str | None] = mapped_column(String(256))
    display_name: Mapped[str | None] = mapped_column(String(256))
    secret: Mapped[str] = mapped_column(Text)  # sealed
    time_interval: Mapped[int] = mapped_column(Integer)  # 30 | 60
    hash_function: Mapped[str] = mapped_column(String(16))  # hmacsha1 | hmacsha256
    status: Mapped[str] = mapped_column(
        String(24), default="available"
    )  # available|assigned|activated|failedActivation
    assigned_to: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    import_job_id: Mapped[str | None] = mapped_column(String(36))  # the CSV import that added it

    user: Mapped[User | None] = relationship()


class OathMethod(db.Model):
    """A user's OATH method: an authenticator app (own sealed secret) or an assigned hardware token."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # software | hardware
    device_id: Mapped[str | None] = mapped_column(
        ForeignKey("hardware_oath_device.id", ondelete="CASCADE"), unique=True
    )  # a token belongs to at most one user
    secret: Mapped[str | None] = mapped_column(Text)  # sealed; software tokens only
    display_name: Mapped[str | None] = mapped_column(String(256))
    drift: Mapped[int] = mapped_column(Integer, default=0)  # in time steps
    last_step: Mapped[int] = mapped_column(Integer, default=-1)  # highest accepted step (replay protection)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    pending_step: Mapped[int | None] = mapped_column(Integer)  # activation match far out: next code must follow
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    device: Mapped[HardwareOathDevice | None] = relationship()


class OathImportJob(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | completed | failed
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)
    failed_rows: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class OathImportError(db.Model):
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("oath_import_job.id", ondelete="CASCADE"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    serial_number: Mapped[str | None] = mapped_column(String(128))
    upn: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
