from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db


class MethodConfiguration(db.Model):
    """A row exists once a tenant changes a method's configuration; until then the defaults apply."""

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    method_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # canonical Graph id, e.g. TemporaryAccessPass
    state: Mapped[str] = mapped_column(String(16))
    include_targets: Mapped[list] = mapped_column(JSON, default=list)
    exclude_targets: Mapped[list] = mapped_column(JSON, default=list)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now, onupdate=clock.now)
