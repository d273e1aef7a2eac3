"""A tenant's company branding (Graph's organizationalBranding, the default localization only)."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db


class TenantBranding(db.Model):
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    background_color: Mapped[str | None] = mapped_column(String(7))  # "#RRGGBB"
    sign_in_page_text: Mapped[str | None] = mapped_column(Text)
    username_hint_text: Mapped[str | None] = mapped_column(String(64))
    banner_logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    banner_logo_type: Mapped[str | None] = mapped_column(String(16))  # image/png | image/jpeg
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now, onupdate=clock.now)
