"""The flow engine. It knows no method by name: it asks the registry what this user may use at this
stage, and asks the MFA rules, in one place, whether a second factor is needed.

Stages of a transaction: identify (UPN) -> first (first factor) -> mfa (when required) -> kmsi -> done.
The hooks the MFA settings plug into, and the MFA decision they make with this engine's own two rules, are
hooks.py's; verifying a submitted answer is verification.py's.
"""

import functools
import hmac
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, session as flask_session
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from .. import clock, crypto, methods, urls
from ..audit import record_signin
from ..audit import reasons
from ..audit.first_party import app_id_for
from ..directory import service as directory
from ..directory.models import User, new_id
from ..extensions import db
from ..methods.base import AuthMethod, MethodContext, Verification
from ..policy import strengths
from . import lockout, sessions
from .hooks import MfaDecision, availability_rules, mfa_rule
from .models import SigninTransaction, Step
from ..i18n.names import N_

SATISFIES_ON_ITS_OWN = reasons.template(N_("%(method)s satisfies MFA on its own"))
STRENGTH_MET = reasons.template(N_("the authentication strength '%(strength)s' is met"))
STRENGTH_REQUIRED = reasons.template(N_("the app requires the authentication strength '%(strength)s'"))

TXN_KEY = "signin_txn"
KEPT_ON_RESTART = (SigninTransaction.tenantless.key, SigninTransaction.strength_id.key)  # outlive a new username


@mfa_rule(1000)
def registered_second_factor(txn) -> MfaDecision:
    """The baseline: a user who registered a second factor is asked for it, even when policy has switched
    that method off since (the MFA step then says no method is left, as Entra does). A strong credential
    such as a TAP may satisfy MFA, but holding one does not make MFA required."""
    if any(method.second_factor for method in choices(txn, stage="mfa")) or registered_second_factors(txn):
        return MfaDecision(True, N_("the user has registered an MFA method"))
    return MfaDecision(False, N_("the user has no MFA method registered"))


def registered_second_factors(txn) -> list[AuthMethod]:
    """The second factors this user registered, usable now or not."""
    return [
        m
        for m in methods.all_methods()
        if m.second_factor and m.name not in txn.methods_done and m.is_registered(method_context(txn, m))
    ]


def unavailable_reasons(txn) -> list[str]:
    """For a stage with nothing to offer: why the methods the user registered cannot be used."""
    offered = set(choices(txn))
    found = []
    for method in methods.all_methods():
        ctx = method_context(txn, method)
        if method not in offered and method.name not in txn.methods_done and method.is_registered(ctx):
            found.append(method.unavailable_reason(ctx))
    return list(dict.fromkeys(found))


def required_strength(txn) -> strengths.Strength | None:
    return strengths.find(txn.tenant_id, txn.strength_id)


def strength_met(txn) -> bool:
    strength = required_strength(txn)
    return strength is not None and strength.meets(txn.factors, txn.aaguid)


@mfa_rule(10)
def authentication_strength(txn) -> MfaDecision | None:
    """An app's required strength comes first: nothing later (trusted IPs, remembered devices) waives it."""
    strength = required_strength(txn)
    if strength is None:
        return None
    if strength_met(txn):
        return MfaDecision(False, STRENGTH_MET % {"strength": strength.display_name})
    return MfaDecision(True, STRENGTH_REQUIRED % {"strength": strength.display_name})


# --- transactions -----------------------------------------------------------------------------------


def start(
    tenant,
    *,
    client_id=None,
    authorize_uri=None,
    return_to=None,
    login_hint=None,
    tenantless=False,
    strength_id=None,
    configured_target=None,
) -> SigninTransaction:
    """A new transaction in this browser. `return_to` comes from the request and must be a local path;
    `configured_target` is an absolute URL an administrator set (an invitation's redirect URL)."""
    lifetime = current_app.config["IDP_SIGNIN_TXN_LIFETIME"]
    txn = SigninTransaction(
        id=new_id(),
        tenant_id=tenant.id,
        client_id=client_id,
        authorize_uri=authorize_uri,
        return_to=configured_target or urls.local_target(return_to),
        login_hint=(login_hint or "")[:320] or None,
        data={},
        methods_done=[],
        amr=[],
        expires_at=clock.now() + timedelta(seconds=lifetime),
    )
    if tenantless:
        txn.tenantless = True
    txn.strength_id = strength_id or None
    db.session.add(txn)
    _bind(txn)
    db.session.commit()
    return txn


def _txn_map() -> dict:
    value = flask_session.get(TXN_KEY)
    return dict(value) if isinstance(value, dict) else {}


def _bind(txn) -> None:
    """Give this browser, and only it, a new secret for the transaction (the caller commits). Done at the start
    and again at each privilege change (each proved factor): whoever holds an older copy of the flow cookie,
    such as an attacker who planted one in the victim's browser, is left with a transaction that is gone."""
    secret = secrets.token_urlsafe(24)
    txn.binding_hash = crypto.digest(secret)
    # one transaction per tenant in this browser: a guest may sign in at home in the middle of another
    flask_session[TXN_KEY] = {**_txn_map(), txn.tenant_id: [txn.id, secret]}


def _load_with_user(txn_id: str) -> SigninTransaction | None:
    """Every step reads the transaction, its user, the user's roles and what methods read on every step (a live
    Temporary Access Pass): one joined query, unless this request has the transaction already."""
    if identity_key(SigninTransaction, txn_id) in db.session.identity_map:
        return db.session.get(SigninTransaction, txn_id)
    relationships = tuple(name for method in _step_readers() for name in method.user_relationships)
    return db.session.execute(_with_user(relationships), {"txn_id": txn_id}).unique().scalar_one_or_none()


@functools.cache
def _with_user(relationships: tuple[str, ...]) -> Select:
    """Built once per set of relationships: a statement keeps its compiled-cache key, and building it and its
    loader options again cost more than the look-up on every step."""
    loads = [joinedload(getattr(User, name)) for name in relationships]
    user = joinedload(SigninTransaction.user).options(joinedload(User.role_assignments), *loads)
    return select(SigninTransaction).where(SigninTransaction.id == bindparam("txn_id")).options(user)


def _step_readers() -> list[AuthMethod]:
    return [method for method in methods.all_methods() if method.user_relationships]


def _bound(tenant) -> SigninTransaction | None:
    """This browser's transaction in this tenant, whatever its state, if the browser holds its secret."""
    entry = _txn_map().get(tenant.id)
    if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)):
        return None
    txn = _load_with_user(entry[0])
    if txn is None or txn.tenant_id != tenant.id:
        return None
    if not (txn.binding_hash and hmac.compare_digest(txn.binding_hash, crypto.digest(entry[1]))):
        return None
    if txn.user is not None:
        for method in _step_readers():
            method.step_loaded(txn.user)
    return txn


def current(tenant) -> SigninTransaction | None:
    txn = _bound(tenant)
    if txn is None or txn.state == Step.DONE or clock.now() >= txn.expires_at:
        return None
    return txn


def reported(tenant) -> dict | None:
    """When this browser's sign-in here was ended by the user's fraud report: what the report did."""
    txn = _bound(tenant)
    return txn.reported if txn is not None and txn.state == Step.DONE else None


def method_context(txn, method: AuthMethod) -> MethodContext:
    return MethodContext(
        user=txn.user, tenant_id=txn.tenant_id, data=dict(txn.data.get(method.name, {})), txn_id=txn.id
    )


def save_method_data(txn, method: AuthMethod, ctx: MethodContext) -> None:
    """Write the method's scratch data back (by assignment: a method may have committed meanwhile); what a
    method began is committed either way."""
    if txn.data.get(method.name, {}) != ctx.data:
        txn.data = {**txn.data, method.name: ctx.data}
    db.session.commit()


#: Entra's page for a disabled account (AADSTS50057)
ACCOUNT_DISABLED = N_("Your account has been locked. Contact your support person to unlock it, then try again.")
TENANTLESS_GUEST = N_(
    "Guests sign in through a link that contains the organization, such as the invitation link or "
    "an address like /contoso.com/… . Ask the organization that invited you for that link."
)


def identify(txn, upn: str) -> str | None:
    """Record who is signing in. Returns a refusal message when this entry point cannot serve them."""
    upn = upn.strip().lower()[:320]
    user = directory.find_by_sign_in_name(directory.find_tenant(txn.tenant_id), upn)
    if user is not None and user.user_type == "Guest" and txn.tenantless:
        return TENANTLESS_GUEST
    keep = {k: v for k, v in txn.data.items() if k in KEPT_ON_RESTART}
    txn.login_hint, txn.user_id = upn, user.id if user else None
    txn.state, txn.methods_done, txn.amr, txn.data = Step.FIRST, [], [], keep
    if user is not None:  # what the next step reads of the user, in this transaction rather than a new one
        for method in _step_readers():
            for name in method.user_relationships:
                getattr(user, name)
    db.session.commit()
    set_committed_value(txn, "user", user)  # the user just found: no reload of the transaction
    if user is not None:
        for method in _step_readers():
            method.step_loaded(user)
    return None


def usernameless_methods(txn) -> list[AuthMethod]:
    return [m for m in methods.all_methods() if m.usernameless and m.offered_without_username(txn.tenant_id)]


def begin_usernameless(txn, method: AuthMethod) -> None:
    """Start over without a username; the method's own data (its challenge) is kept."""
    keep = {k: v for k, v in txn.data.items() if k in KEPT_ON_RESTART or k == method.name}
    txn.login_hint, txn.user_id = None, None
    txn.state, txn.methods_done, txn.amr, txn.data = Step.FIRST, [], [], keep
    db.session.flush()
    set_committed_value(txn, "user", None)


def choices(txn, stage: str | None = None) -> list[AuthMethod]:
    """Methods this user may use at this stage, in the order they are offered. Under a required
    authentication strength, only those that can lead to it."""
    found = _fitting(txn, stage or txn.state)
    strength = required_strength(txn)
    if strength is None:
        return found
    proved = txn.factors
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
        if (
            fits
            and all(rule(txn, method) for rule in availability_rules)
            and method.is_available(method_context(txn, method))
        ):
            found.append(method)
    if stage == "mfa":  # the user's default first, then second factors before a credential replacing the first
        preferred = txn.user.preferred_mfa_method if txn.user is not None else None
        found.sort(key=lambda method: (method.name != preferred, not method.second_factor))
    return found


def other_choices(txn, method: AuthMethod, options: list[AuthMethod]) -> list[AuthMethod]:
    """ "Other ways to sign in" on a step. Before a first factor it is the same list for every username
    (real or not): what the tenant offers, never what this user registered."""
    if txn.state == Step.FIRST and not txn.methods_done and required_strength(txn) is None:
        return [m for m in methods.all_methods() if m is not method and m.listed_for_anyone(txn.tenant_id)]
    return [m for m in options if m is not method]


def default_choice(txn) -> AuthMethod | None:
    options = choices(txn)
    return options[0] if options else None


# --- verification -----------------------------------------------------------------------------------


def end(txn) -> None:
    """The transaction is over without a sign-in (e.g. the password grant, which is the whole sign-in)."""
    txn.state = Step.DONE


def deny(txn, reason: str, user: User | None = None) -> None:
    """The transaction ends refused (a guard said no, the user reported fraud); the caller commits. `user`
    names the user of a transaction that is not stored (a report from an e-mailed link)."""
    end(txn)
    record_failure(txn, reason, user=user)


def record_failure(txn, reason: str, method: AuthMethod | None = None, user: User | None = None) -> None:
    """The sign-in log row of every refused attempt, written one way: the user (or the name typed), the
    methods proved so far and the one that was tried."""
    tried = txn.methods_done + ([method.name] if method and method.name not in txn.methods_done else [])
    record_signin(
        tenant_id=txn.tenant_id,
        user=user or txn.user,
        upn=txn.login_hint,
        client_id=app_id_for(txn.client_id, txn.return_to),
        methods=tried,
        result="failure",
        failure_reason=reason,
    )


def cancel(txn) -> None:
    """The user cancelled: the app's authorization request is answered with access_denied."""
    end(txn)
    db.session.commit()


def back_to_username(txn) -> None:
    """A username-less method failed before it named the user: ask for the username again."""
    txn.state = Step.IDENTIFY
    db.session.commit()


def _identify_by_credential(txn, user_id: str) -> str | None:
    """A username-less first factor (a discoverable passkey) said who this is."""
    user = db.session.get(directory.User, user_id)
    if user is None or user.tenant_id != txn.tenant_id:
        return N_("That passkey is not registered in this organization.")
    if user.user_type == "Guest" and txn.tenantless:
        return TENANTLESS_GUEST
    txn.user_id, txn.login_hint = user.id, user.upn
    db.session.flush()
    set_committed_value(txn, "user", user)
    return None


def _record_step(txn, method: AuthMethod, result: Verification) -> None:
    txn.methods_done = txn.methods_done + [method.name]
    if result.factor:
        txn.factors = txn.factors + [result.factor]
        if result.aaguid:
            txn.aaguid = result.aaguid
    txn.amr = sorted(set(txn.amr) | set(method.amr) | set(result.extra_amr))
    if result.not_after:
        txn.not_after = min(txn.not_after, result.not_after) if txn.not_after else result.not_after
    if result.credential_ref:
        txn.credential_ref = result.credential_ref


def request_digest(uri: str) -> str:
    """An authorization request by its path and parameters (order and encoding aside)."""
    parts = urlsplit(uri)
    return crypto.digest(json.dumps([parts.path, sorted(parse_qsl(parts.query, keep_blank_values=True))]))


def is_multi_factor(txn) -> bool:
    """Two methods, one strong on its own, or a step that proved MFA elsewhere (a guest's home tenant):
    `acr` and `amr` follow this one answer."""
    used = [methods.get(name) for name in txn.methods_done]
    return "mfa" in txn.amr or any(m and m.multi_factor for m in used) or len([m for m in used if m]) >= 2


def complete(txn, persistent: bool):
    """Finish: create the SSO session, log the success, and say where the browser goes next."""
    user = txn.user
    mfa = is_multi_factor(txn)
    remembered = not mfa and txn.mfa_remembered  # satisfied by a remembered device
    amr = sorted(set(txn.amr) | ({"mfa"} if mfa or remembered else set()))
    acr = txn.strength_id if strength_met(txn) else ("mfa" if mfa or remembered else "sfa")
    session = sessions.create(
        tenant_id=txn.tenant_id,
        user=user,
        methods=txn.methods_done,
        amr=amr,
        acr=acr,
        mfa=mfa,
        not_after=txn.not_after,
        credential_ref=txn.credential_ref,
        persistent=persistent,
        factors=txn.factors,
        aaguid=txn.aaguid,
        mfa_remembered=remembered,
    )
    txn.state = Step.DONE
    record_signin(
        tenant_id=txn.tenant_id,
        user=user,
        client_id=app_id_for(txn.client_id, txn.return_to),
        methods=txn.methods_done,
        result="success",
        failure_reason=None if mfa else txn.mfa_reason,
    )
    db.session.commit()
    flask_session[TXN_KEY] = {k: v for k, v in _txn_map().items() if k != txn.tenant_id}
    flask_session.pop("fresh_signin", None)
    if txn.authorize_uri:  # that request, and only it, may use this sign-in despite prompt=login / max_age
        flask_session["fresh_signin"] = [session.id, request_digest(txn.authorize_uri)]
    lockout.remember_device(user)
    return session
