"""The MFA settings in the pages: what an MFA prompt offers, the fraud report step, the console page."""
from flask import abort, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from flask import current_app
from sqlalchemy import select

from .. import clock
from ..audit import record_audit
from ..console import admin_required, bp as console_bp
from ..directory import service as directory
from ..directory.models import Group, User
from ..extensions import db, limiter
from ..signin import flow
from ..signin.models import SigninTransaction
from ..signin.views import bp as signin_bp
from . import blocks, fraud, locations, remember, risk, settings
from .models import MfaBlock

ADMIN_ROLES = {"Global Administrator", "Authentication Policy Administrator"}


def mfa_prompt_extras(txn, stage: str, method) -> dict:
    """For an MFA prompt: how long the device may be remembered, and whether fraud can be reported."""
    user = txn.user if txn else None
    if user is None or not (stage == "mfa" or method.mfa_prompt):
        return {"remember_days": None, "can_report": False}
    return {"remember_days": remember.days_offered(user) if stage == "mfa" else None,
            "can_report": fraud.can_report(user)}


@signin_bp.post("/report")
@limiter.limit("10/minute")
def report_fraud():
    """"I didn't try to sign in", from an MFA prompt: the pending sign-in is denied."""
    txn = flow.current(g.tenant)
    if txn is None or txn.user is None:
        return render_template("signin/expired.html", restart=url_for("signin.start", tenant=g.tenant_ref)), 400
    if not fraud.can_report(txn.user):
        abort(403, description="Your organization does not accept fraud reports.")
    outcome = fraud.report(txn, txn.user)
    return render_template("signin/reported.html", outcome=outcome)


# --- the report link in the email-code message --------------------------------------------------------

def _report_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="fraud-report-link")


def report_link_token(user) -> str:
    return _report_serializer().dumps({"u": user.id})


def report_from_link(token: str):
    """The emailed link names the user (signed); it denies their pending sign-in, if any, and reports."""
    try:
        data = _report_serializer().loads(token or "")
    except BadSignature:
        return None
    user = db.session.get(User, data.get("u") if isinstance(data, dict) else None)
    if user is None or user.tenant_id != g.tenant.id or not fraud.can_report(user):
        return None
    txn = db.session.scalar(select(SigninTransaction).where(
        SigninTransaction.user_id == user.id, SigninTransaction.state != "done",
        SigninTransaction.expires_at > clock.now()).order_by(SigninTransaction.created_at.desc()).limit(1))
    if txn is None:  # nothing pending: still recorded, as a report about this user
        txn = SigninTransaction(tenant_id=user.tenant_id, user_id=user.id, methods_done=[], amr=[], data={},
                                expires_at=clock.now())
    return fraud.report(txn, user)


# --- console ---------------------------------------------------------------------------------------------

def _may_edit() -> bool:
    return bool(g.caller.roles & ADMIN_ROLES)


def _audit(activity, target_type, target_id, before=None, after=None):
    record_audit(tenant_id=g.tenant.id, actor_id=g.sso.user.id, actor_type="user", activity=activity,
                 target_type=target_type, target_id=target_id, before=before, after=after)


def _form_value(default, raw):
    if isinstance(default, bool):
        return raw == "on"
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            return raw
    if isinstance(default, list):
        return [line.strip() for line in (raw or "").splitlines() if line.strip()]
    if isinstance(default, dict):  # includeTarget
        return {"targetType": "group", "id": raw or "all_users"}
    return raw


@console_bp.route("/mfa", methods=["GET"])
@admin_required
def mfa_settings():
    tenant_id = g.tenant.id
    return render_template("console/mfa.html", sections=settings.SECTIONS,
                           values={name: settings.get(tenant_id, name) for name in settings.SECTIONS},
                           blocked=blocks.listing(tenant_id), risky=risk.risky_users(tenant_id),
                           detections=risk.detections(tenant_id)[:50], locations=locations.named_locations(tenant_id),
                           groups=db.session.scalars(select(Group).where(Group.tenant_id == tenant_id)).all(),
                           user_of=lambda user_id: db.session.get(User, user_id),
                           may_edit=_may_edit(), error=request.args.get("error"), saved=request.args.get("saved"),
                           now=clock.now())


@console_bp.post("/mfa/settings/<section>")
@admin_required
def save_mfa_section(section):
    if section not in settings.SECTIONS or not _may_edit():
        abort(404 if section not in settings.SECTIONS else 403)
    defaults = settings.SECTIONS[section].defaults
    changes = {name: _form_value(default, request.form.get(name)) for name, default in defaults.items()
               if name in request.form or isinstance(default, bool)}
    try:
        before, after = settings.update(g.tenant.id, section, changes)
    except settings.SettingsError as error:
        db.session.rollback()
        return redirect(url_for("console.mfa_settings", error=str(error)) + f"#{section}")
    _audit(f"Update MFA settings: {settings.SECTIONS[section].title}", "mfaSettings", section, before, after)
    db.session.commit()
    return redirect(url_for("console.mfa_settings", saved=section) + f"#{section}")


@console_bp.post("/mfa/block")
@admin_required
def block_user():
    if not _may_edit():
        abort(403)
    user = directory.find_user(g.tenant, request.form.get("upn", "").strip()[:320])
    if user is None:
        return redirect(url_for("console.mfa_settings", error="No user with that UPN in this tenant.") + "#block")
    try:
        row = blocks.block(user, request.form.get("reason", ""), g.sso.user.upn)
    except blocks.BlockError as error:
        return redirect(url_for("console.mfa_settings", error=str(error)) + "#block")
    _audit("Block user from MFA", "user", user.id, after={"reason": row.reason, "expires": clock.iso(row.expires_at)})
    db.session.commit()
    return redirect(url_for("console.mfa_settings", saved="block") + "#block")


@console_bp.post("/mfa/block/<block_id>/unblock")
@admin_required
def unblock_user(block_id):
    row = db.session.get(MfaBlock, block_id)
    if row is None or row.tenant_id != g.tenant.id or not _may_edit():
        abort(404 if row is None or row.tenant_id != g.tenant.id else 403)
    try:
        blocks.unblock(row, request.form.get("reason", ""), g.sso.user.upn)
    except blocks.BlockError as error:
        return redirect(url_for("console.mfa_settings", error=str(error)) + "#block")
    _audit("Unblock user from MFA", "user", row.user_id, after={"reason": row.unblock_reason})
    db.session.commit()
    return redirect(url_for("console.mfa_settings", saved="block") + "#block")


@console_bp.post("/mfa/risk/<user_id>/dismiss")
@admin_required
def dismiss_risk(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    if not _may_edit():
        abort(403)
    if risk.dismiss(user):
        _audit("Dismiss user risk", "user", user.id)
        db.session.commit()
    return redirect(url_for("console.mfa_settings", saved="risk") + "#risk")


@console_bp.post("/users/<user_id>/revoke-mfa-sessions")
@admin_required
def revoke_mfa_sessions(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    if not _may_edit() and "Authentication Administrator" not in g.caller.roles and \
            "Privileged Authentication Administrator" not in g.caller.roles:
        abort(403)
    remember.revoke(user)
    _audit("Revoke MFA sessions", "user", user.id)
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))

