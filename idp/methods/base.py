"""The one interface every authentication method implements; the sign-in flow composes them.

A method never knows the flow's pages or order. It says whether this user may use it under policy,
what the page needs to start it, and whether what the user submitted verifies.
"""
from dataclasses import dataclass, field
from datetime import datetime

from ..directory.models import User


@dataclass
class Verification:
    ok: bool
    error: str | None = None  # shown to the user
    reason: str | None = None  # for the sign-in log
    not_after: datetime | None = None  # a hard cap this credential puts on the session (TAP, guest OTP)
    credential_ref: str | None = None  # which credential was used (e.g. the TAP id)
    mfa_denial: bool = False  # counts towards MFA lockout
    extra_amr: tuple[str, ...] = ()
    #: the authentication-strength factor this step proved ("password", "softwareOath", "fido2", ...)
    factor: str | None = None
    aaguid: str | None = None  # the authenticator model, for strengths limited to some AAGUIDs
    identified_user_id: str | None = None  # a username-less first factor (a discoverable passkey) names the user


@dataclass
class MethodContext:
    """What a method may look at while deciding: the user, the tenant and the transaction's data."""

    user: User | None
    tenant_id: str
    data: dict = field(default_factory=dict)  # the transaction's scratch space for this method


class AuthMethod:
    #: identifier used in URLs, logs and the session's method list
    name: str = ""
    #: what the user sees in the method picker
    label: str = ""
    #: RFC 8176 authentication method references this method yields
    amr: tuple[str, ...] = ()
    #: the authentication-strength factors a step of this method can prove
    factors: tuple[str, ...] = ()
    #: may be used as the first factor (identifies the user with a credential)
    first_factor: bool = False
    #: may be used as the second factor after another method
    second_factor: bool = False
    #: satisfies MFA on its own (TAP, passkey with user verification)
    multi_factor: bool = False
    #: phishing-resistant (for authentication strengths)
    phishing_resistant: bool = False
    #: an MFA prompt at whatever stage it runs (OATH, passkeys, email codes): blocks and lockout apply, a
    #: wrong answer is an MFA denial, and the page offers "I didn't try to sign in"
    mfa_prompt: bool = False
    #: the MFA settings' verification-method switch that governs it ("verificationCode"), if any
    verification_method: str | None = None
    #: template rendered for this method's step
    template: str = ""
    #: may start a sign-in before any username is typed (a discoverable passkey names its user)
    usernameless: bool = False
    #: position in the method picker; the first available method is the default step
    order: int = 100

    def is_available(self, ctx: MethodContext) -> bool:
        """Whether this user can use the method now: registered, and allowed by policy."""
        raise NotImplementedError

    def begin(self, ctx: MethodContext) -> dict:
        """Prepare the step (send a code, make a challenge); returns the template's context."""
        return {}

    def verify(self, ctx: MethodContext, form) -> Verification:
        raise NotImplementedError

    def offered_without_username(self, tenant_id: str) -> bool:
        """For a usernameless method: whether the username page offers it in this tenant."""
        return False

    def action(self, ctx: MethodContext, name: str, form) -> tuple[bool, str]:
        """A step's auxiliary action (e.g. "send" a code), posted as `action=<name>`: (ok, message to show)."""
        return False, "This action is not available."
