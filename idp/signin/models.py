import copy
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..directory.models import User, new_id
from ..extensions import db


class Step(StrEnum):
    """The states of a sign-in transaction; only the flow engine (flow.py) moves a transaction between them."""

    IDENTIFY = "identify"  # no username yet (or a username-less method failed)
    FIRST = "first"  # the first factor
    MFA = "mfa"  # a second factor (or a step up to an authentication strength)
    NEW_PASSWORD = "newpassword"  # forceChangePasswordNextSignIn, after the password
    KMSI = "kmsi"  # "Stay signed in?"
    DONE = "done"  # completed, refused, reported or cancelled


T = TypeVar("T")


class Scratch(Generic[T]):
    """One typed field of a transaction's scratch data (the JSON `data` column): the one place that knows its key.
    Reads give a copy, so changing a list read from it never changes the stored value unseen; writing None
    removes the key."""

    def __init__(self, key: str, default: T) -> None:
        self.key, self.default = key, default

    @overload
    def __get__(self, txn: None, owner: type) -> "Scratch[T]": ...
    @overload
    def __get__(self, txn: Any, owner: type) -> T: ...
    def __get__(self, txn, owner=None):
        if txn is None:
            return self
        return copy.deepcopy((txn.data or {}).get(self.key, self.default))

    def __set__(self, txn: Any, value: T) -> None:
        data = dict(txn.data or {})
        if value is None:
            data.pop(self.key, None)
        else:
            data[self.key] = value
        txn.data = data  # a new dict: the JSON column sees the change


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
    state: Mapped[str] = mapped_column(String(16), default=lambda: Step.IDENTIFY)  # a Step, stored by value
    # SHA-256 of the secret the starting browser holds in its flow cookie; replaced at each privilege change,
    # so a planted or copied flow cookie stops working once the real user has proved a factor
    binding_hash: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # per-method scratch (challenges, pending ids)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User | None] = relationship(primaryjoin="foreign(SigninTransaction.user_id) == User.id", viewonly=True)

    # The flow's own scratch data, typed (methods keep theirs under their own name in `data`).
    strength_id: Scratch[str | None] = Scratch("_strength", None)  # the authentication strength the app requires
    tenantless: Scratch[bool] = Scratch("_tenantless", False)  # began at /common or /organizations
    factors: Scratch[list] = Scratch("_factors", [])  # authentication-strength factors proved so far
    aaguid: Scratch[str | None] = Scratch("_aaguid", None)  # the passkey model that signed in
    credential_ref: Scratch[str | None] = Scratch("_credential_ref", None)  # e.g. the TAP that signed in
    mfa_remembered: Scratch[bool] = Scratch("_mfa_remembered", False)  # MFA waived by a remembered device
    after_password_change: Scratch[str | None] = Scratch("_after_password_change", None)  # the Step to resume
    reported: Scratch[dict | None] = Scratch("_reported", None)  # the outcome of "I didn't try to sign in"


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
    mfa_remembered: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )  # MFA via a remembered device
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


class SigninAttemptWindow(db.Model):
    """Failed first-factor attempts for one typed username, per kind of location (familiar or not): a slot
    is claimed with one conditional UPDATE before the credential is checked (smart lockout)."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of tenant, username, location kind
    failures: Mapped[int] = mapped_column(Integer, default=0)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime | None] = mapped_column(DateTime)
