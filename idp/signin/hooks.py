"""The flow engine's extension points, which idp.wiring fills with the MFA settings: the MFA rules in their
order, the guards before and after each factor, the hooks after each MFA prompt, the availability rules and
fraud reporting; and what they decide together (`decide_mfa`, `prompt_refusal`, `report_fraud`). The engine's
own two rules (a registered second factor, an app's required strength) are flow.py's, added here on import.
"""

from dataclasses import dataclass

from .. import clock
from ..directory import service as directory
from ..extensions import db
from ..i18n.names import N_
from ..methods.base import AuthMethod
from .models import SigninTransaction, Step


@dataclass
class MfaDecision:
    required: bool
    reason: str


#: (order, rule) pairs; a rule takes the transaction and returns an MfaDecision or None (no opinion).
#: Lower order runs first and the first answer wins: requirements that nothing may waive (a required
#: authentication strength) sort before waivers (trusted IPs, remembered devices).
_mfa_rules: list[tuple[int, object]] = []
#: callables (txn, user) -> message or None, run after the first factor; a message refuses the sign-in
signin_guards: list = []
#: callables (txn, user) -> message or None, run before a second factor is checked (blocks, lockout)
mfa_guards: list = []
#: callables (txn, user) -> message or None, without side effects: checked before an MFA step is shown or a
#: code is sent (a blocked or locked-out user is not mailed codes nor invited to type one)
prompt_checks: list = []
#: callables (txn, user, method) called for each failed second factor (MFA denial), e.g. to count lockouts
mfa_denial_hooks: list = []
#: callables (txn, user, method, form) called after each passed MFA prompt (reset counters, remember device)
mfa_success_hooks: list = []
#: callables (txn, user, method) called when an MFA prompt failed without a denial (expired challenge, no code)
mfa_abandon_hooks: list = []
#: callables (txn, method) -> bool; False hides a method (e.g. a verification method the tenant switched off)
availability_rules: list = []
#: callables (txn, user): "I didn't try to sign in" said out of band (the fraud code on a call, a push report)
fraud_reporters: list = []
#: callables (user) -> bool: whether the user may report fraud at all
fraud_reporting_rules: list = []


def add_mfa_rule(order: int, rule) -> None:
    if (order, rule) not in _mfa_rules:
        _mfa_rules.append((order, rule))
        _mfa_rules.sort(key=lambda pair: pair[0])


def mfa_rule(order: int):
    """The engine's own rules (flow.py) declare their order here; other packages' rules are added by idp.wiring."""

    def decorate(func):
        add_mfa_rule(order, func)
        return func

    return decorate


def prompt_refusal(txn, method: AuthMethod) -> str | None:
    """Why this MFA step may not even be shown (the user is blocked from MFA or locked out), or None."""
    if txn.user is None or not (txn.state == Step.MFA or method.satisfies_mfa):
        return None
    return next((message for check in prompt_checks if (message := check(txn, txn.user))), None)


def decide_mfa(txn) -> MfaDecision:
    for _, rule in _mfa_rules:
        decision = rule(txn)
        if decision is not None:
            return decision
    return MfaDecision(False, N_("no rule required MFA"))


def can_report_fraud(user) -> bool:
    return user is not None and any(rule(user) for rule in fraud_reporting_rules)


def report_fraud(txn_id: str | None, user_id: str) -> None:
    """A fraud report from outside the browser: deny that user's pending sign-in and apply the consequences."""
    user = db.session.get(directory.User, user_id)
    txn = db.session.get(SigninTransaction, txn_id) if txn_id else None
    if user is None:
        return
    if txn is None or txn.user_id != user.id:  # nothing pending any more: still recorded, about this user
        txn = SigninTransaction(
            tenant_id=user.tenant_id, user_id=user.id, methods_done=[], amr=[], data={}, expires_at=clock.now()
        )
    for reporter in fraud_reporters:
        reporter(txn, user)
