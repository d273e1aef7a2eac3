"""My Security Info's kit: its route table, the entry a slice lists for a user's method, and the one rule for
adding a method, for the slices that add to My Security Info without importing its shell. The shell's blueprint
(idp.securityinfo.bp) takes `pages` when idp.wiring installs it, so their endpoints stay `securityinfo.<view>`."""

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from .. import clock, methods
from ..methods.base import MethodContext
from ..signin import sessions
from .routes import Routes

pages = Routes("securityinfo")


@dataclass
class MethodEntry:
    kind: str  # icon / css class, e.g. "password", "tap", "software-oath", "hardware-oath"
    label: str
    detail: str = ""
    delete_endpoint: str | None = None  # POST endpoint (on this blueprint) that removes it
    delete_args: dict = field(default_factory=dict)
    counts_as_method: bool = True  # a TAP is listed, but is not a lasting sign-in method
    notice: str | None = None
    usable: bool = True  # a used, expired or not-yet-valid pass is listed but signs nobody in


def registration_refusal(user, session) -> str | None:
    """The one rule for adding a sign-in method to an account that already has an MFA method: the session
    needs a recent real MFA (or the registration window of the TAP it signed in with). Whatever waived MFA at
    sign-in (a trusted IP, a remembered device) does not count: else a stolen password could add the
    attacker's own method. Returns the message for the user, or None."""
    now = clock.now()
    deadline = sessions.registration_deadline(session)
    if deadline is not None and now < deadline:
        return None
    freshness = timedelta(seconds=current_app.config["IDP_REGISTRATION_MFA_FRESHNESS"])
    if session.mfa_at is not None and now - session.mfa_at <= freshness:
        return None
    context = MethodContext(user=user, tenant_id=user.tenant_id)
    if not any(m.mfa_prompt and m.is_available(context) for m in methods.all_methods()):
        return None  # the first MFA method: the password sign-in may add it
    return "To add another verification method, sign in again with your existing one first."
