import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db


def new_id() -> str:
    return str(uuid.uuid4())


class Roles:
    """Entra directory roles this server knows (display names, as Entra shows them)."""

    GLOBAL_ADMIN = "Global Administrator"
    PRIVILEGED_AUTH_ADMIN = "Privileged Authentication Administrator"
    AUTH_ADMIN = "Authentication Administrator"
    AUTH_POLICY_ADMIN = "Authentication Policy Administrator"
    GLOBAL_READER = "Global Reader"
    ALL = (GLOBAL_ADMIN, PRIVILEGED_AUTH_ADMIN, AUTH_ADMIN, AUTH_POLICY_ADMIN, GLOBAL_READER)


class Tenant(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    domains: Mapped[list["Domain"]] = relationship(back_populates="tenant", order_by="Domain.name")

    @property
    def default_domain(self) -> str | None:
        return self.domains[0].name if self.domains else None


class Domain(db.Model):
    """A verified domain; domain names are unique across the server, so they identify a tenant."""

    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class User(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    upn: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(256))
    mail: Mapped[str | None] = mapped_column(String(320), index=True)
    user_type: Mapped[str] = mapped_column(String(16), default="Member")  # Member | Guest
    guest_kind: Mapped[str | None] = mapped_column(String(16))  # internal | external (guests only)
    account_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # B2B (external guests): Graph's externalUserState and how the invitation was redeemed
    external_user_state: Mapped[str | None] = mapped_column(String(24))  # PendingAcceptance | Accepted
    redemption_method: Mapped[str | None] = mapped_column(String(24))  # email_otp | home_account
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime)
    invite_redirect_url: Mapped[str | None] = mapped_column(Text)
    invited_by: Mapped[str | None] = mapped_column(String(36))

    tenant: Mapped[Tenant] = relationship()
    role_assignments: Mapped[list["RoleAssignment"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {assignment.role for assignment in self.role_assignments}

    @property
    def is_admin(self) -> bool:
        return bool(self.roles)

    @property
    def is_external_guest(self) -> bool:
        return self.user_type == "Guest" and self.guest_kind == "external"


class RoleAssignment(db.Model):
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[User] = relationship(back_populates="role_assignments")


class Group(db.Model):
    """A security group."""

    __table_args__ = (UniqueConstraint("tenant_id", "display_name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class GroupMember(db.Model):
    group_id: Mapped[str] = mapped_column(ForeignKey("group.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
