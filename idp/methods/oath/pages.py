"""OATH in My Security Info (authenticator app, hardware token) and the admin console (inventory, import)."""
from flask import Response, abort, g, redirect, render_template, request, stream_with_context, url_for
from markupsafe import Markup
from sqlalchemy import select

from ...audit import record_audit
from ...console import admin_required, bp as console_bp, user_panels
from ...directory import service as directory
from ...extensions import db
from ...securityinfo import MethodEntry, add_actions, bp as securityinfo_bp, panels
from ...signin.sessions import login_required
from .. import rbac
from . import importer, service
from .api import INVENTORY_READ_ROLES, INVENTORY_WRITE_ROLES, save_upload
from .models import HardwareOathDevice, OathImportJob, OathMethod


def _audit(activity, user_id, after=None):
    record_audit(tenant_id=g.tenant.id, actor_id=g.sso.user.id, actor_type="user", activity=activity,
                 target_type="user", target_id=user_id, after=after)


# --- My Security Info ------------------------------------------------------------------------------

def _entries(user, session):
    entries = []
    for method in service.methods_of(user.id, activated_only=True):
        if method.kind == "software":
            entries.append(MethodEntry("software-oath", "Authenticator app", "Verification codes (TOTP)",
                                       "securityinfo.delete_oath", {"method_id": method.id}))
        else:
            device = method.device
            entries.append(MethodEntry("hardware-oath", "Hardware token",
                                       f"{device.manufacturer or ''} {device.model or ''} · serial {device.serial_number}".strip(),
                                       "securityinfo.delete_oath", {"method_id": method.id}))
    return entries


panels.append(_entries)


def _actions(user, session):
    kinds = service.usable_kinds(user)
    found = []
    if "software" in kinds:
        found.append({"label": "Add an authenticator app", "endpoint": "securityinfo.add_app"})
    if "hardware" in kinds:
        found.append({"label": "Add a hardware token", "endpoint": "securityinfo.add_token"})
    return found


add_actions.append(_actions)


def _registration_refusal(kind: str, what: str):
    """The page refusing registration, or None. Policy decides the kind; and adding an MFA method when the
    user already has one takes an MFA sign-in (else a stolen password could add the attacker's own)."""
    if kind not in service.usable_kinds(g.sso.user):
        return render_template("error.html", title="Not available",
                               message=f"Your organization has not enabled {what} for you."), 403
    if g.sso.mfa_at is None and service.methods_of(g.sso.user_id, activated_only=True):
        return render_template("error.html", title="Sign in again",
                               message="To add another verification method, sign in again with your existing one first."), 403
    return None


@securityinfo_bp.route("/oath/app", methods=["GET", "POST"])
@login_required
def add_app():
    user = g.sso.user
    refusal = _registration_refusal("software", "authenticator apps")
    if refusal:
        return refusal
    error, need_next = None, False
    if request.method == "POST":
        method = db.session.get(OathMethod, request.form.get("method_id", ""))
        if method is None or method.user_id != user.id or method.activated_at:
            abort(400, description="This set-up has expired. Start again.")
        result = service.activate(method, request.form.get("code", "").strip())
        db.session.commit()
        if result.ok:
            _audit("User registered authenticator app", user.id)
            db.session.commit()
            return redirect(url_for("securityinfo.index"))
        error, need_next = result.message, result.need_next_code
        enrolment = service.enrolment_view(method, user)
    else:
        try:
            enrolment = service.start_software_enrolment(user)
        except service.OathError as failure:
            return render_template("error.html", title="Cannot add an authenticator app", message=failure.message), 400
        db.session.commit()
    return render_template("securityinfo/oath_app.html", enrolment=enrolment, qr=Markup(enrolment.qr_svg),
                           error=error, need_next=need_next), (400 if error else 200)


@securityinfo_bp.route("/oath/token", methods=["GET", "POST"])
@login_required
def add_token():
    user = g.sso.user
    refusal = _registration_refusal("hardware", "hardware tokens")
    if refusal:
        return refusal
    error, need_next = None, False
    if request.method == "POST":
        serial = request.form.get("serial", "").strip()[:128]
        device = db.session.scalar(select(HardwareOathDevice).where(HardwareOathDevice.tenant_id == g.tenant.id,
                                                                    HardwareOathDevice.serial_number == serial))
        method = db.session.scalar(select(OathMethod).where(OathMethod.device_id == device.id)) if device else None
        try:
            if device is None or (method is not None and method.user_id != user.id):
                raise service.OathError("No available token has that serial number. Check the back of the token.")
            if method is None:
                method = service.assign(device, user)
            result = service.activate(method, request.form.get("code", "").strip())
        except service.OathError as failure:
            error = failure.message
        else:
            db.session.commit()
            if result.ok:
                _audit("User activated hardware OATH token", user.id, {"deviceId": device.id})
                db.session.commit()
                return redirect(url_for("securityinfo.index"))
            error, need_next = result.message, result.need_next_code
    return render_template("securityinfo/oath_token.html", error=error, need_next=need_next,
                           serial=request.form.get("serial", "")), (400 if error else 200)


@securityinfo_bp.post("/oath/<method_id>/delete")
@login_required
def delete_oath(method_id):
    method = db.session.get(OathMethod, method_id)
    if method is not None and method.user_id == g.sso.user.id:
        service.remove(method)
        _audit("User deleted OATH method", g.sso.user.id, {"kind": method.kind})
        db.session.commit()
    return redirect(url_for("securityinfo.index"))


# --- admin console ---------------------------------------------------------------------------------

def _console_panel(caller, user):
    try:
        grant = rbac.authorize(caller, user, "read", self_service=True)
    except rbac.MethodAccessError:
        return None
    return {"template": "console/oath_panel.html", "methods": service.methods_of(user.id), "grant": grant}


user_panels.append(_console_panel)


@console_bp.post("/users/<user_id>/oath/assign")
@admin_required
def console_assign(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    try:
        rbac.authorize(g.caller, user, "create", self_service=True)
    except rbac.MethodAccessError as failure:
        abort(403, description=failure.message)
    serial = request.form.get("serial", "").strip()[:128]
    device = db.session.scalar(select(HardwareOathDevice).where(HardwareOathDevice.tenant_id == g.tenant.id,
                                                                HardwareOathDevice.serial_number == serial))
    if device is None:
        return render_template("error.html", title="Token not found", message=f"No token with serial {serial}."), 404
    try:
        service.assign(device, user)
    except service.OathError as failure:
        return render_template("error.html", title="Not assigned", message=failure.message), failure.status
    _audit("Assign hardware OATH token", user.id, {"deviceId": device.id})
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))


@console_bp.post("/users/<user_id>/oath/<method_id>/activate")
@admin_required
def console_activate(user_id, method_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    try:
        rbac.authorize(g.caller, user, "create", self_service=True)
    except rbac.MethodAccessError as failure:
        abort(403, description=failure.message)
    method = db.session.get(OathMethod, method_id)
    if method is None or method.user_id != user.id:
        abort(404)
    result = service.activate(method, request.form.get("code", "").strip())
    db.session.commit()
    if not result.ok:
        return render_template("error.html", title="Not activated", message=result.message), 400
    _audit("Activate hardware OATH token", user.id, {"deviceId": method.device_id})
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))


def _inventory_allowed(writing: bool) -> None:
    if not g.caller.roles & (INVENTORY_WRITE_ROLES if writing else INVENTORY_READ_ROLES):
        abort(403, description="Only an Authentication Policy Administrator manages the token inventory.")


@console_bp.get("/oath/tokens")
@admin_required
def inventory():
    _inventory_allowed(writing=False)
    devices = db.session.scalars(select(HardwareOathDevice).where(HardwareOathDevice.tenant_id == g.tenant.id)
                                 .order_by(HardwareOathDevice.serial_number).limit(500)).all()
    jobs = db.session.scalars(select(OathImportJob).where(OathImportJob.tenant_id == g.tenant.id)
                              .order_by(OathImportJob.created_at.desc()).limit(10)).all()
    return render_template("console/oath_inventory.html", devices=devices, jobs=jobs)


@console_bp.post("/oath/tokens/import")
@admin_required
def upload():
    _inventory_allowed(writing=True)
    job = importer.start(g.tenant.id, save_upload(), g.sso.user.id)
    _audit("Import hardware OATH tokens", None, {"jobId": job.id})
    db.session.commit()
    return redirect(url_for("console.import_job", job_id=job.id))


@console_bp.get("/oath/imports/<job_id>")
@admin_required
def import_job(job_id):
    _inventory_allowed(writing=False)
    job = db.session.get(OathImportJob, job_id)
    if job is None or job.tenant_id != g.tenant.id:
        abort(404)
    return render_template("console/oath_import.html", job=job)


@console_bp.get("/oath/imports/<job_id>/errors.csv")
@admin_required
def import_errors_csv(job_id):
    _inventory_allowed(writing=False)
    job = db.session.get(OathImportJob, job_id)
    if job is None or job.tenant_id != g.tenant.id:
        abort(404)
    return Response(stream_with_context(importer.error_csv(job.id)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="oath-import-{job.id}-errors.csv"'})
