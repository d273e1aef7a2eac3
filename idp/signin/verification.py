"""Verifying one sign-in step: the MFA guards, the method's verdict counted by smart lockout, the user a
username-less credential names, the failure or success hooks, and the state the transaction moves to; and the
forced password change after a password sign-in (`change_password`). The flow
engine (flow.py) owns the transaction and the rules; this is the one place a submitted answer goes through."""

from flask import current_app

from .. import passwords
from ..audit import record_audit
from ..directory import service as directory
from ..extensions import db
from ..i18n.names import N_
from ..methods.base import AuthMethod, MethodContext, Verification
from . import lockout
from .flow import (
    ACCOUNT_DISABLED,
    SATISFIES_ON_ITS_OWN,
    _bind,
    _identify_by_credential,
    _record_step,
    deny,
    method_context,
    record_failure,
    required_strength,
    strength_met,
)
from .hooks import decide_mfa, mfa_abandon_hooks, mfa_denial_hooks, mfa_guards, mfa_success_hooks, signin_guards
from .models import Step


def submit(txn, method: AuthMethod, form) -> Verification:
    """Verify one step and move the transaction on. Returns what the page should show.

    A malformed answer is refused before any MFA attempt is claimed; a claimed attempt is always settled
    (success, denial or release), even when verification raises."""
    problem = method.malformed(form)
    if problem:
        return Verification(False, problem, N_("malformed request"), malformed=True)
    attempt = {"claimed": False}
    try:
        # the transaction's row is written once, at the step's commit: the look-ups the step makes meanwhile
        # (guards, the MFA decision) read other tables, so flushing it before each of them would only add UPDATEs
        with db.session.no_autoflush:
            return _submit(txn, method, form, attempt)
    except BaseException:
        db.session.rollback()
        if attempt["claimed"]:
            _release_attempt(txn, method)
        raise


def _release_attempt(txn, method: AuthMethod) -> None:
    """Give back the attempt slot of a verification that raised (the error itself propagates)."""
    try:
        user = db.session.get(directory.User, txn.user_id)
        for hook in mfa_abandon_hooks:
            hook(txn, user, method)
    except Exception:  # the database may be what failed; the original error matters more
        current_app.logger.exception("could not release an MFA attempt")
        db.session.rollback()


def _submit(txn, method: AuthMethod, form, attempt: dict) -> Verification:
    """One step, in order: the MFA guards, the verification (counted by smart lockout), the user a credential
    names, the failure or success hooks, then the next state. `attempt["claimed"]` is True while an MFA attempt
    is taken and not yet settled (submit() releases it if anything raises)."""
    user = txn.user
    prompt = user is not None and (txn.state == Step.MFA or method.satisfies_mfa)
    if prompt:
        message = next((m for guard in mfa_guards if (m := guard(txn, user))), None)
        if message:
            record_failure(txn, message, method)
            db.session.commit()
            return Verification(False, message, message)
        attempt["claimed"] = True
    ctx = method_context(txn, method)
    result, settled = _verify_counted(txn, method, ctx, form)
    if settled:
        return result
    txn.data = {**txn.data, method.name: ctx.data}
    if result.ok and user is None and result.identified_user_id:
        refused, prompt = _identified(txn, method, result.identified_user_id, attempt)
        if refused:
            return refused
        user = txn.user
    if not result.ok:
        return _failed(txn, method, result, user, prompt, attempt)
    if user is None or not user.account_enabled:
        return _not_enabled(txn, method, user, attempt)
    _record_step(txn, method, result)
    _bind(txn)  # a factor was proved: the privilege changed, so does the browser's secret
    if prompt:
        attempt["claimed"] = False  # settled here
        for hook in mfa_success_hooks:
            hook(txn, user, method, form)
    refused = _advance(txn, method, user)
    db.session.commit()
    return refused or result


def _verify_counted(txn, method: AuthMethod, ctx: MethodContext, form) -> tuple[Verification, bool]:
    """(the method's verdict, whether the step is over already: smart lockout refused it unverified)."""
    slot = None
    if lockout.counts(method, txn):
        slot = lockout.claim(txn)
        if slot is None:
            record_failure(txn, N_("account locked: too many failed attempts"), method)
            db.session.commit()
            return Verification(False, lockout.LOCKED, "smart lockout", locked=True), True
    try:
        result = method.verify(ctx, form)
    except BaseException:
        if slot:  # whatever the verifier did, the slot is settled
            db.session.rollback()
            lockout.settle(slot, failed=False)
            db.session.commit()
        raise
    if slot:
        lockout.settle(slot, failed=not result.ok)
    return result, False


def _identified(txn, method: AuthMethod, user_id: str, attempt: dict) -> tuple[Verification | None, bool]:
    """A username-less credential named its user: (a refusal or None, whether the step is now an MFA prompt).
    Blocks and lockout apply once the credential names the user."""
    refusal = _identify_by_credential(txn, user_id)
    prompt = False
    if refusal is None and method.satisfies_mfa:
        refusal = next((m for guard in mfa_guards if (m := guard(txn, txn.user))), None)
        prompt = attempt["claimed"] = refusal is None
    if not refusal:
        return None, prompt
    record_failure(txn, refusal, method)
    txn.user_id = txn.login_hint = None
    db.session.commit()
    return Verification(False, refusal, refusal), prompt


def _failed(txn, method: AuthMethod, result: Verification, user, prompt: bool, attempt: dict) -> Verification:
    record_failure(txn, result.reason or result.error, method)
    attempt["claimed"] = False  # settled here
    if result.mfa_denial and user is not None:
        for hook in mfa_denial_hooks:
            hook(txn, user, method)
    elif prompt:
        for hook in mfa_abandon_hooks:
            hook(txn, user, method)
    db.session.commit()
    return result


def _not_enabled(txn, method: AuthMethod, user, attempt: dict) -> Verification:
    """The credential verified, but for no account or a disabled one: the same words as a wrong password."""
    message = ACCOUNT_DISABLED if user else N_("Your account or password is incorrect.")
    record_failure(txn, N_("The user account is disabled.") if user else N_("unknown user"), method)
    if attempt["claimed"]:
        attempt["claimed"] = False
        for hook in mfa_abandon_hooks:
            hook(txn, user, method)
    db.session.commit()
    return Verification(False, message)


def _advance(txn, method: AuthMethod, user) -> Verification | None:
    """The state after a proved factor (the MFA decision after the first one); a refusal of a sign-in guard."""
    if txn.state == Step.FIRST:
        message = next((m for guard in signin_guards if (m := guard(txn, user))), None)
        if message:
            deny(txn, message)
            return Verification(False, message)
        if method.multi_factor and required_strength(txn) is None:
            txn.state, txn.mfa_reason = Step.KMSI, SATISFIES_ON_ITS_OWN % {"method": method.label}
        else:
            decision = decide_mfa(txn)
            txn.state, txn.mfa_reason = (Step.MFA if decision.required else Step.KMSI), decision.reason
    elif required_strength(txn) is not None and not strength_met(txn):
        txn.state = Step.MFA  # step up until the strength is met, or no method can get there
    else:
        txn.state = Step.KMSI
    if method.name == "password" and user.force_change_password:
        # passwordProfile.forceChangePasswordNextSignIn: a new password before anything else
        txn.after_password_change = txn.state
        txn.state = Step.NEW_PASSWORD
    return None


def change_password(txn, new_password: str, confirmation: str) -> str | None:
    """The forced password change after a password sign-in. Returns a message when the new one is refused."""
    user = txn.user
    if new_password != confirmation:
        return N_("The passwords don't match.")
    if not passwords.meets_complexity(new_password):
        return N_(
            "Passwords must have at least 8 characters and contain at least three of the following: uppercase "
            "letters, lowercase letters, numbers, and symbols."
        )
    if passwords.verify_password(user.password_hash, new_password):
        return N_("You can't reuse your current password. Choose a new one.")
    user.password_hash = passwords.hash_password(new_password)
    user.force_change_password = False
    record_audit(
        tenant_id=txn.tenant_id,
        actor_id=user.id,
        actor_type="user",
        activity="Change user password",
        target_type="User",
        target_id=user.id,
    )
    txn.state = txn.after_password_change or Step.KMSI
    db.session.commit()
    return None
