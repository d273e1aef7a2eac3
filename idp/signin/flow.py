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
from ..policy import strengths
from . import sessions
from .models import SigninTransaction

TXN_KEY = "signin_txn"
KEPT_ON_RESTART = ("_tenantless", "_strength")  # transaction data that outlives a change of username


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
#: callables (txn, user, method, form) called after each passed MFA prompt (reset counters, remember device)
mfa_success_hooks: list = []
#: callables (txn, user, method) called when an MFA prompt failed without a denial (expired challenge, no code)
mfa_abandon_hooks: list = []
#: callables (txn, method) -> bool; False hides a method (e.g. a verification method the tenant switched off)
availability_rules: list = []


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


def required_strength(txn) -> strengths.Strength | None:
    return strengths.find(txn.tenant_id, txn.data.get("_strength"))


def strength_met(txn) -> bool:
    strength = required_strength(txn)
    return strength is not None and strength.meets(txn.data.get("_factors"), txn.data.get("_aaguid"))


@mfa_rule(10)
def authentication_strength(txn) -> MfaDecision | None:
    """An app's required strength comes first: nothing later (trusted IPs, remembered devices) waives it."""
    strength = required_strength(txn)
    if strength is None:
        return None
    if strength_met(txn):
        return MfaDecision(False, f"the authentication strength '{strength.display_name}' is met")
    return MfaDecision(True, f"the app requires the authentication strength '{strength.display_name}'")


def decide_mfa(txn) -> MfaDecision:
    for _, rule in _mfa_rules:
        decision = rule(txn)
        if decision is not None:
            return decision
    return MfaDecision(False, "no rule required MFA")


# --- transactions -----------------------------------------------------------------------------------

def start(tenant, *, client_id=None, authorize_uri=None, return_to=None, login_hint=None,
          tenantless=False, strength_id=None) -> SigninTransaction:
    lifetime = current_app.config["IDP_SIGNIN_TXN_LIFETIME"]
    data = {"_tenantless": True} if tenantless else {}
    if strength_id:
        data["_strength"] = strength_id
    txn = SigninTransaction(tenant_id=tenant.id, client_id=client_id, authorize_uri=authorize_uri,
                            return_to=return_to, login_hint=(login_hint or "")[:320] or None, data=data,
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
    keep = {k: v for k, v in txn.data.items() if k in KEPT_ON_RESTART}
    txn.login_hint, txn.user_id = upn, user.id if user else None
    txn.state, txn.methods_done, txn.amr, txn.data = "first", [], [], keep
    db.session.commit()
    db.session.refresh(txn)
    return None


def usernameless_methods(txn) -> list[AuthMethod]:
    return [m for m in methods.all_methods() if m.usernameless and m.offered_without_username(txn.tenant_id)]


def begin_usernameless(txn, method: AuthMethod) -> None:
    """Start over without a username; the method's own data (its challenge) is kept."""
    keep = {k: v for k, v in txn.data.items() if k in KEPT_ON_RESTART or k == method.name}
    txn.login_hint, txn.user_id = None, None
    txn.state, txn.methods_done, txn.amr, txn.data = "first", [], [], keep
    db.session.flush()
    db.session.refresh(txn)


def choices(txn, stage: str | None = None) -> list[AuthMethod]:
    """Methods this user may use at this stage, in the order they are offered. Under a required
    authentication strength, only those that can lead to it."""
    found = _fitting(txn, stage or txn.state)
    strength = required_strength(txn)
    if strength is None:
        return found
    proved = txn.data.get("_factors", [])
    reachable = {f for m in _fitting(txn, "first") + _fitting(txn, "mfa") for f in m.factors}
    return [m for m in found if strength.useful(proved, set(m.factors), reachable)]


def _fitting(txn, stage: str) -> list[AuthMethod]:
    found = []
    for method in methods.all_methods():
        if method.name in txn.methods_done:
            continue
        if stage == "first":
            fits = method.first_factor or method.multi_factor
        else:
            fits = method.second_factor or method.multi_factor
        # Methods see user=None for an unknown UPN; only a step that reveals nothing says yes then.
        if fits and all(rule(txn, method) for rule in availability_rules) and \
                method.is_available(method_context(txn, method)):
            found.append(method)
    return found


def default_choice(txn) -> AuthMethod | None:
    options = choices(txn)
    return options[0] if options else None


# --- verification -----------------------------------------------------------------------------------

def submit(txn, method: AuthMethod, form) -> Verification:
    """Verify one step and move the transaction on. Returns what the page should show."""
    user = txn.user
    prompt = user is not None and (txn.state == "mfa" or method.mfa_prompt)
    if prompt:
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
    if result.ok and user is None and result.identified_user_id:
        refusal = _identify_by_credential(txn, result.identified_user_id)
        if refusal is None and method.mfa_prompt:  # blocks and lockout apply once the credential names the user
            refusal = next((m for guard in mfa_guards if (m := guard(txn, txn.user))), None)
            prompt = refusal is None
        if refusal:
            record_signin(tenant_id=txn.tenant_id, user=txn.user, client_id=txn.client_id, methods=[method.name],
                          result="failure", failure_reason=refusal)
            txn.user_id = txn.login_hint = None
            db.session.commit()
            return Verification(False, refusal, refusal)
        user = txn.user
    if not result.ok:
        record_signin(tenant_id=txn.tenant_id, user=user, upn=txn.login_hint, client_id=txn.client_id,
                      methods=txn.methods_done + [method.name], result="failure", failure_reason=result.reason or result.error)
        if result.mfa_denial and user is not None:
            for hook in mfa_denial_hooks:
                hook(txn, user, method)
        elif prompt:
            for hook in mfa_abandon_hooks:
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
    if prompt:
        for hook in mfa_success_hooks:
            hook(txn, user, method, form)
    if txn.state == "first":
        for guard in signin_guards:
            message = guard(txn, user)
            if message:
                record_signin(tenant_id=txn.tenant_id, user=user, client_id=txn.client_id, methods=txn.methods_done,
                              result="failure", failure_reason=message)
                txn.state = "done"
                db.session.commit()
                return Verification(False, message)
        if method.multi_factor and required_strength(txn) is None:
            txn.state, txn.mfa_reason = "kmsi", f"{method.label} satisfies MFA on its own"
        else:
            decision = decide_mfa(txn)
            txn.state, txn.mfa_reason = ("mfa" if decision.required else "kmsi"), decision.reason
    elif required_strength(txn) is not None and not strength_met(txn):
        txn.state = "mfa"  # step up until the strength is met, or no method can get there
    else:
        txn.state = "kmsi"
    db.session.commit()
    return result


def _identify_by_credential(txn, user_id: str) -> str | None:
    """A username-less first factor (a discoverable passkey) said who this is."""
    user = db.session.get(directory.User, user_id)
    if user is None or user.tenant_id != txn.tenant_id:
        return "That passkey is not registered in this organization."
    if user.user_type == "Guest" and txn.data.get("_tenantless"):
        return TENANTLESS_GUEST
    txn.user_id, txn.login_hint = user.id, user.upn
    db.session.flush()
    db.session.refresh(txn)
    return None


def _record_step(txn, method: AuthMethod, result: Verification) -> None:
    txn.methods_done = txn.methods_done + [method.name]
    if result.factor:
        txn.data = {**txn.data, "_factors": txn.data.get("_factors", []) + [result.factor],
                    **({"_aaguid": result.aaguid} if result.aaguid else {})}
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
    remembered = not mfa and bool(txn.data.get("_mfa_remembered"))  # satisfied by a remembered device
    amr = sorted(set(txn.amr) | ({"mfa"} if mfa or remembered else set()))
    acr = txn.data["_strength"] if strength_met(txn) else ("mfa" if mfa or remembered else "sfa")
    session = sessions.create(tenant_id=txn.tenant_id, user=user, methods=txn.methods_done, amr=amr,
                              acr=acr, mfa=mfa, not_after=txn.not_after,
                              credential_ref=txn.data.get("_credential_ref"), persistent=persistent)
    session.factors, session.aaguid = list(txn.data.get("_factors", [])), txn.data.get("_aaguid")
    session.mfa_remembered = remembered
    txn.state = "done"
    record_signin(tenant_id=txn.tenant_id, user=user, client_id=txn.client_id, methods=txn.methods_done,
                  result="success", failure_reason=None if mfa else txn.mfa_reason)
    db.session.commit()
    flask_session[TXN_KEY] = {k: v for k, v in _txn_map().items() if k != txn.tenant_id}
    flask_session["fresh_signin"] = session.id
    return session
