"""The one interface every authentication method implements; the sign-in flow composes them.

A method never knows the flow's pages or order. It says whether this user may use it under policy,
what the page needs to start it, and whether what the user submitted verifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # the interface needs no models at import time
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
    malformed: bool = False  # the request could not be an answer (refused before any attempt was claimed)
    locked: bool = False  # refused unchecked: too many recent failures (smart lockout)


@dataclass
class MethodContext:
    """What a method may look at while deciding: the user, the tenant and the transaction's data."""

    user: User | None
    tenant_id: str
    data: dict[str, Any] = field(default_factory=dict)  # the transaction's scratch space for this method
    txn_id: str | None = None  # for steps answered out of band (a call, a push) that may report fraud


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
    #: User relationships this method reads on every sign-in step: loaded with the step's transaction (one joined
    #: query), then handed to `step_loaded`
    user_relationships: tuple[str, ...] = ()

    def step_loaded(self, user: Any) -> None:
        """The step's user, its `user_relationships` loaded: remember what they hold for this request."""

    def is_available(self, ctx: MethodContext) -> bool:
        """Whether this user can use the method now: registered, and allowed by policy."""
        raise NotImplementedError

    @property
    def satisfies_mfa(self) -> bool:
        """Whether a step of this method counts as MFA (an MFA prompt, or a credential strong on its own): MFA
        blocks and lockout apply to every such step."""
        return self.mfa_prompt or self.multi_factor

    def is_registered(self, ctx: MethodContext) -> bool:
        """Whether the user holds a credential of this method, whatever policy allows now: a user who
        registered MFA stays an MFA user when an administrator switches a method off."""
        return False

    def unavailable_reason(self, ctx: MethodContext) -> str:
        """Why a method the user registered cannot be used now (shown when nothing else is left)."""
        from flask_babel import gettext  # here, not at import time: the interface imports nothing

        return str(gettext("%(method)s: your organization has turned this method off.", method=gettext(self.label)))

    def begin(self, ctx: MethodContext) -> dict[str, Any]:
        """Prepare the step (send a code, make a challenge); returns the template's context."""
        return {}

    def malformed(self, form: Any) -> str | None:
        """Why the submitted form cannot be an answer at all (a code that is not digits, a credential that is
        not a WebAuthn response), checked before an MFA attempt is claimed: a malformed request is refused
        as such and never counts towards lockout. None when it is well-formed."""
        return None

    def verify(self, ctx: MethodContext, form: Any) -> Verification:
        raise NotImplementedError

    def offered_without_username(self, tenant_id: str) -> bool:
        """For a usernameless method: whether the username page offers it in this tenant."""
        return False

    def listed_for_anyone(self, tenant_id: str) -> bool:
        """Whether the first step's "Other ways to sign in" lists this method. Before a factor is proved the
        list may not depend on the user (it would tell who exists and what they registered), so this asks
        the tenant's policy only; a choice the user cannot use leads back to their default step."""
        return False

    def action(self, ctx: MethodContext, name: str, form: Any) -> tuple[bool, str]:
        """A step's auxiliary action (e.g. "send" a code), posted as `action=<name>`: (ok, message to show)."""
        return False, "This action is not available."


@dataclass(frozen=True)
class Outcome:
    """How an out-of-band step ended: the page's whole sentence (translated there), the sign-in log's reason and
    whether it counts towards MFA lockout (the user refused or failed, rather than missed it)."""

    message: str
    reason: str
    mfa_denial: bool = False


class OutOfBandStep(AuthMethod):
    """A step answered away from the page (a call answered on the phone, a notification approved in the app).
    Opening the step starts one challenge unless this sign-in's is still live; `restart_action` starts another;
    submitting the page asks how the challenge ended. Subclasses say how to start, find and read a challenge."""

    #: where the transaction keeps this sign-in's challenge id (in the method's scratch data)
    challenge_key: str = ""
    #: the page's "try again" action (`action=<name>`)
    restart_action: str = ""
    #: the outcome that proves the factor
    approved: str = ""
    #: the answer while the user has not acted yet
    waiting: Outcome = Outcome("", "")
    #: every other outcome; an unknown one reads as `failures[None]`
    failures: ClassVar[dict[str | None, Outcome]] = {}

    def is_live(self, challenge_id: str | None) -> bool:
        raise NotImplementedError

    def outcome(self, challenge_id: str | None) -> str | None:
        raise NotImplementedError

    def start(self, ctx: MethodContext, form: Any = None) -> tuple[bool, str]:
        """Start a challenge, store its id under `challenge_key`: (ok, message to show)."""
        raise NotImplementedError

    def begin(self, ctx: MethodContext) -> dict[str, Any]:
        if not self.is_live(ctx.data.get(self.challenge_key)):
            ok, message = self.start(ctx)
            if not ok:
                return {"send_error": message}
        return {}

    def action(self, ctx: MethodContext, name: str, form: Any) -> tuple[bool, str]:
        if name != self.restart_action:
            return super().action(ctx, name, form)
        return self.start(ctx, form)

    def verify(self, ctx: MethodContext, form: Any) -> Verification:
        outcome = self.outcome(ctx.data.get(self.challenge_key))
        if outcome == self.approved:
            return Verification(True, factor=self.factors[0])
        ended = self.waiting if outcome == "pending" else self.failures.get(outcome) or self.failures[None]
        reason = ended.reason.format(outcome=outcome)  # a reason may name the outcome it stands for
        return Verification(False, ended.message, reason, mfa_denial=ended.mfa_denial)
