"""The flow engine. It knows no method by name: it asks the registry what this user may use at this
stage, and asks the MFA rules, in one place, whether a second factor is needed.

Stages of a transaction: identify (UPN) -> first (first factor) -> mfa (when required) -> kmsi -> done.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session as flask_session

from .. import clock, methods
from ..audit import record_signin
from ..directory import service as directory
from ..extensions import db
from ..methods.base import AuthMethod, MethodContext, Verification
from . import sessions
from .models import SigninTransaction

TXN_KEY = "signin_txn"


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
#: callables (txn, user, method) called for each failed second factor (MFA denial), e.g. to count lockouts
mfa_denial_hooks: list = []


def mfa_rule(order: int):
    def decorate(func):
        _mfa_rules.append((order, func))
        _mfa_rules.sort(key=lambda pair: pair[0])
        return func
    return decorate


@mfa_rule(1000)
def registered_second_factor(txn) -> MfaDecision:
    """The baseline: a user who registered a second factor is asked for it. A strong credential such as a
    TAP may satisfy MFA, but holding one does not make MFA required."""
    if any(method.second_factor for method in choices(txn, stage="mfa")):
        return MfaDecision(True, "the user has registered an MFA method")
    return MfaDecision(False, "the user has no MFA method registered")


def decide_mfa(txn) -> MfaDecision:
    for _, rule in _mfa_rules:
        decision = rule(txn)
        if decision is not None:
            return decision
    return MfaDecision(False, "no rule required MFA")


# --- transactions -----------------------------------------------------------------------------------

def start(tenant, *, client_id=None, authorize_uri=None, return_to=None, login_hint=None,
          tenantless=False) -> SigninTransaction:
    lifetime = current_app.config["IDP_SIGNIN_TXN_LIFETIME"]
    txn = SigninTransaction(tenant_id=tenant.id, client_id=client_id, authorize_uri=authorize_uri,
                            return_to=return_to, login_hint=(login_hint or "")[:320] or None,
                            data={"_tenantless": True} if tenantless else {},
                            methods_done=[], amr=[], expires_at=clock.now() + timedelta(seconds=lifetime))
    db.session.add(txn)
    db.session.commit()
    # one transaction per tenant in this browser: a guest may sign in at home in the middle of another
    flask_session[TXN_KEY] = {**_txn_map(), tenant.id: txn.id}
    return txn


def _txn_map() -> dict:
    value = flask_session.get(TXN_KEY)
    return dict(value) if isinstance(value, dict) else {}


def current(tenant) -> SigninTransaction | None:
    txn_id = _txn_map().get(tenant.id)
    txn = db.session.get(SigninTransaction, txn_id) if isinstance(txn_id, str) else None
    if txn is None or txn.tenant_id != tenant.id or txn.state == "done" or clock.now() >= txn.expires_at:
        return None
    return txn


def method_context(txn, method: AuthMethod) -> MethodContext:
    return MethodContext(user=txn.user, tenant_id=txn.tenant_id, data=dict(txn.data.get(method.name, {})))


def save_method_data(txn, method: AuthMethod, ctx: MethodContext) -> None:
    """Write the method's scratch data back (by assignment: a method may have committed meanwhile)."""
    txn.data = {**txn.data, method.name: ctx.data}
    db.session.commit()


TENANTLESS_GUEST = ("Guests sign in through a link that contains the organization, such as the invitation link or "
                    "an address like /contoso.com/… . Ask the organization that invited you for that link.")


def identify(txn, upn: str) -> str | None:
    """Record who is signing in. Returns a refusal message when this entry point cannot serve them."""
    upn = upn.strip().lower()[:320]
    user = directory.find_by_sign_in_name(directory.find_tenant(txn.tenant_id), upn)
    if user is not None and user.user_type == "Guest" and txn.data.get("_tenantless"):
        return TENANTLESS_GUEST
    keep = {k: v for k, v in txn.data.items() if k == "_tenantless"}
    txn.login_hint, txn.user_id = upn, user.id if user else None
    txn.state, txn.methods_done, txn.amr, txn.data = "first", [], [], keep
    db.session.commit()
    db.session.refresh(txn)
    return None


def choices(txn, stage: str | None = None) -> list[AuthMethod]:
    """Methods this user may use at this stage, in the order they are offered."""
    stage = stage or txn.state
    found = []
    for method in methods.all_methods():
        if method.name in txn.methods_done:
            continue
        if stage == "first":
            fits = method.first_factor or method.multi_factor
        else:
            fits = method.second_factor or method.multi_factor
        # Methods see user=None for an unknown UPN; only a step that reveals nothing says yes then.
        if fits and method.is_available(method_context(txn, method)):
            found.append(method)
    return found


def default_choice(txn) -> AuthMethod | None:
    options = choices(txn)
    return options[0] if options else None


# --- verification -----------------------------------------------------------------------------------

def submit(txn, method: AuthMethod, form) -> Verification:
    """Verify one step and move the transaction on. Returns what the page should show."""
    user = txn.user
    if txn.state == "mfa":
        for guard in mfa_guards:
            message = guard(txn, user)
            if message:
                record_signin(tenant_id=txn.tenant_id, user=user, client_id=txn.client_id,
                              methods=txn.methods_done + [method.name], result="failure", failure_reason=message)
                db.session.commit()
                return Verification(False, message, message)
    ctx = method_context(txn, method)
    result = method.verify(ctx, form)
    txn.data = {**txn.data, method.name: ctx.data}
    if not result.ok:
        record_signin(tenant_id=txn.tenant_id, user=user, upn=txn.login_hint, client_id=txn.client_id,
                      methods=txn.methods_done + [method.name], result="failure", failure_reason=result.reason or result.error)
        if result.mfa_denial and user is not None:
            for hook in mfa_denial_hooks:
                hook(txn, user, method)
        db.session.commit()
        return result
    if user is None or not user.account_enabled:
        message = "Your account has been disabled. Contact your administrator." if user else "Your account or password is incorrect."
        record_signin(tenant_id=txn.tenant_id, user=user, upn=txn.login_hint, client_id=txn.client_id,
                      methods=[method.name], result="failure", failure_reason="account disabled" if user else "unknown user")
        db.session.commit()
        return Verification(False, message)
    _record_step(txn, method, result)
    if txn.state == "first":
        for guard in signin_guards:
            message = guard(txn, user)
            if message:
                record_signin(tenant_id=txn.tenant_id, user=user, client_id=txn.client_id, methods=txn.methods_done,
                              result="failure", failure_reason=message)
                txn.state = "done"
                db.session.commit()
                return Verification(False, message)
        if method.multi_factor:
            txn.state, txn.mfa_reason = "kmsi", f"{method.label} satisfies MFA on its own"
        else:
            decision = decide_mfa(txn)
            txn.state, txn.mfa_reason = ("mfa" if decision.required else "kmsi"), decision.reason
    else:
        txn.state = "kmsi"
    db.session.commit()
    return result


def _record_step(txn, method: AuthMethod, result: Verification) -> None:
    txn.methods_done = txn.methods_done + [method.name]
    txn.amr = sorted(set(txn.amr) | set(method.amr) | set(result.extra_amr))
    if result.not_after:
        txn.not_after = min(txn.not_after, result.not_after) if txn.not_after else result.not_after
    if result.credential_ref:
        txn.data = {**txn.data, "_credential_ref": result.credential_ref}


def is_multi_factor(txn) -> bool:
    used = [methods.get(name) for name in txn.methods_done]
    return any(m and m.multi_factor for m in used) or len([m for m in used if m]) >= 2


def complete(txn, persistent: bool):
    """Finish: create the SSO session, log the success, and say where the browser goes next."""
    user = txn.user
    mfa = is_multi_factor(txn)
    amr = sorted(set(txn.amr) | ({"mfa"} if mfa else set()))
    session = sessions.create(tenant_id=txn.tenant_id, user=user, methods=txn.methods_done, amr=amr,
                              acr="mfa" if mfa else "sfa", mfa=mfa, not_after=txn.not_after,
                              credential_ref=txn.data.get("_credential_ref"), persistent=persistent)
    txn.state = "done"
    record_signin(tenant_id=txn.tenant_id, user=user, client_id=txn.client_id, methods=txn.methods_done,
                  result="success", failure_reason=None if mfa else txn.mfa_reason)
    db.session.commit()
    flask_session[TXN_KEY] = {k: v for k, v in _txn_map().items() if k != txn.tenant_id}
    flask_session["fresh_signin"] = session.id
    return session
