import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
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
    USER_ADMIN = "User Administrator"
    GROUPS_ADMIN = "Groups Administrator"
    APP_ADMIN = "Application Administrator"
    CLOUD_APP_ADMIN = "Cloud Application Administrator"
    SECURITY_ADMIN = "Security Administrator"
    SECURITY_READER = "Security Reader"
    CA_ADMIN = "Conditional Access Administrator"
    REPORTS_READER = "Reports Reader"
    PRIVILEGED_ROLE_ADMIN = "Privileged Role Administrator"
    ALL = (
        GLOBAL_ADMIN,
        PRIVILEGED_AUTH_ADMIN,
        AUTH_ADMIN,
        AUTH_POLICY_ADMIN,
        GLOBAL_READER,
        USER_ADMIN,
        GROUPS_ADMIN,
        APP_ADMIN,
        CLOUD_APP_ADMIN,
        SECURITY_ADMIN,
        SECURITY_READER,
        CA_ADMIN,
        REPORTS_READER,
        PRIVILEGED_ROLE_ADMIN,
    )
    #: who may change the authentication methods policy, strengths and tenant-wide MFA settings
    POLICY_ADMINS = frozenset({GLOBAL_ADMIN, AUTH_POLICY_ADMIN})
    #: who may read them
    POLICY_READERS = POLICY_ADMINS | {GLOBAL_READER}
    #: who may manage the sign-in of a user who holds a role (their methods, password, sessions)
    PRIVILEGED_AUTH_ADMINS = frozenset({GLOBAL_ADMIN, PRIVILEGED_AUTH_ADMIN})
    #: Entra's role template ids (the same in every tenant)
    TEMPLATE_IDS = {
        GLOBAL_ADMIN: "62e90394-69f5-4237-9190-012177145e10",
        PRIVILEGED_AUTH_ADMIN: "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        AUTH_ADMIN: "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        AUTH_POLICY_ADMIN: "0526716b-113d-4c15-b2c8-68e3c22b9f80",
        GLOBAL_READER: "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        USER_ADMIN: "fe930be7-5e62-47db-91af-98c3a49a38b1",
        GROUPS_ADMIN: "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        APP_ADMIN: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        CLOUD_APP_ADMIN: "158c047a-c907-4556-b7ef-446551a6b5f7",
        SECURITY_ADMIN: "194ae4cb-b126-40b2-bd5b-6091b380977d",
        SECURITY_READER: "5d6b6bb7-de71-4623-b4af-96380a352509",
        CA_ADMIN: "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        REPORTS_READER: "4a5d8f65-41da-4de4-8968-e035b65339cf",
        PRIVILEGED_ROLE_ADMIN: "e8611ab8-c189-46e8-94e1-60213ab1f814",
    }


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
    # Graph's profile properties
    mail_nickname: Mapped[str | None] = mapped_column(String(64))
    given_name: Mapped[str | None] = mapped_column(String(64))
    surname: Mapped[str | None] = mapped_column(String(64))
    job_title: Mapped[str | None] = mapped_column(String(128))
    department: Mapped[str | None] = mapped_column(String(64))
    usage_location: Mapped[str | None] = mapped_column(String(2))
    #: passwordProfile.forceChangePasswordNextSignIn: the next password sign-in asks for a new password
    force_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: signInSessionsValidFromDateTime: sessions and refresh tokens from before it are void
    sessions_valid_from: Mapped[datetime | None] = mapped_column(DateTime)
    #: signInPreferences.userPreferredMethodForSecondaryAuthentication, by method name ("oath", "sms"...)
    preferred_mfa_method: Mapped[str | None] = mapped_column(String(32))
    #: Graph's preferredLanguage (ISO 639-1, optionally with a region: "ja", "en-US"); mails follow it
    preferred_language: Mapped[str | None] = mapped_column(String(10))

    tenant: Mapped[Tenant] = relationship()
    role_assignments: Mapped[list["RoleAssignment"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

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
    description: Mapped[str | None] = mapped_column(Text)
    mail_nickname: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class GroupMember(db.Model):
    group_id: Mapped[str] = mapped_column(ForeignKey("group.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)


class ServicePrincipal(db.Model):
    """An application's instance in a tenant (Entra's servicePrincipal). `app_id` is the client id, or a
    first-party application's well-known id (Microsoft Graph's)."""

    __table_args__ = (UniqueConstraint("tenant_id", "app_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[str] = mapped_column(String(36), index=True)
    display_name: Mapped[str] = mapped_column(String(256))
    account_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
