"""MFA settings, as Entra's "configure MFA settings" page has them, enforced in every server process.

settings.py   the tenant's settings, section by section (lockout, fraud alert, suspicious activity,
              notifications, trusted IPs, verification methods, remember MFA, user risk)
models.py     settings rows, per-user state (lockout counters, last MFA, risk), blocks, detections, named locations
lockout.py    account lockout: attempts claimed atomically, so a burst never checks more than the threshold
blocks.py     block / unblock users (90 days)
fraud.py      "I didn't try to sign in": deny, block, raise risk, notify
risk.py       risk detections, risky users, the optional high-risk block
locations.py  trusted IPs and named locations (an MFA rule)
remember.py   the remember-MFA cookie (an MFA rule), revocation, the refresh-token rule
api.py        Graph-style resources; pages.py: the report step, the console page
"""
from ..oidc.claims import refresh_rules
from ..signin import flow
from . import blocks, fraud, locations, lockout, remember, risk, settings  # noqa: F401  (rules register)


def _verification_method_enabled(txn, method) -> bool:
    """A verification method the tenant switched off is not offered."""
    if method.verification_method is None:
        return True
    return settings.get(txn.tenant_id, "verificationMethods")[method.verification_method]


def _remember_if_asked(txn, user, method, form) -> None:
    if form.get("remember_mfa") == "on" and txn.state == "mfa":
        remember.remember_device(user)


flow.mfa_guards.extend([blocks.guard, lockout.claim_attempt])
flow.mfa_denial_hooks.append(lockout.record_denial)
flow.mfa_abandon_hooks.append(lockout.release)
flow.mfa_success_hooks.extend([lockout.record_success, _remember_if_asked])
flow.signin_guards.append(risk.signin_guard)
flow.availability_rules.append(_verification_method_enabled)
refresh_rules.append(remember.refresh_rule)


def init_app(app) -> None:
    from . import api, pages  # noqa: F401  (routes and Graph operations register)
    app.after_request(remember.apply_cookies)
    app.add_template_global(pages.mfa_prompt_extras)
