"""OATH in My Security Info (authenticator app, hardware token) and the admin console (inventory, import)."""

from flask import (
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask import session as flask_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from ...ui import refusal_page, refusal_text, say
from ...audit import reasons, record_admin_change
from ...kit.console import admin_required
from ...kit.console import pages as console_pages
from ...directory import service as directory
from ...directory.models import Roles
from ...i18n.names import N_
from ...extensions import db
from ...kit.securityinfo import MethodEntry, registration_refusal
from ...kit.securityinfo import pages as securityinfo_pages
from ...signin.guard import login_required
from .. import rbac
from . import importer, service
from .inventory_api import save_upload
from .models import HardwareOathDevice, OathImportJob, OathMethod


# --- My Security Info ------------------------------------------------------------------------------


def security_info_entries(user, session):
    entries = []
    for method in service.methods_of(user.id, activated_only=True):
        if method.kind == "software":
            entries.append(
                MethodEntry(
                    "software-oath",
                    _("Authenticator app"),
                    _("Verification codes (TOTP)"),
                    "securityinfo.delete_oath",
                    {"method_id": method.id},
                )
            )
        else:
            device = method.device
            entries.append(
                MethodEntry(
                    "hardware-oath",
                    _("Hardware token"),
                    _(
                        "%(make)s · serial %(serial)s",
                        make=f"{device.manufacturer or ''} {device.model or ''}".strip(),
                        serial=device.serial_number,
                    ).strip(" ·"),
                    "securityinfo.delete_oath",
                    {"method_id": method.id},
                )
            )
    return entries


def registered_user_ids(tenant_id: str) -> set[str]:
    """Users with an activated OATH method (the console dashboard's MFA coverage)."""
    from ...directory.models import User

    return set(
        db.session.scalars(
            select(OathMethod.user_id)
            .join(User, User.id == OathMethod.user_id)
            .where(User.tenant_id == tenant_id, OathMethod.activated_at.is_not(None))
        )
    )


def security_info_actions(user, session):
    """Offered only when it will be allowed (never to external guests, whom enrolment refuses)."""
    kinds = set() if user.is_external_guest else service.usable_kinds(user)
    found = []
    if "software" in kinds:
        found.append({"label": _("Add an authenticator app"), "endpoint": "securityinfo.add_app"})
    if "hardware" in kinds:
        found.append({"label": _("Add a hardware token"), "endpoint": "securityinfo.add_token"})
    return found


say(
    {
        "oath.too_many": _l(
            "There can be at most %(count)s authenticator apps and hardware tokens together. Delete one you no "
            "longer use, then try again."
        ),
        "oath.external_guest": _l(
            "A guest from another organization signs in with their own account, so they cannot add an "
            "authenticator app or hardware token here."
        ),
        "oath.other_tenant": _l("That token belongs to another organization. Choose a token from this inventory."),
        "oath.taken": _l("That token is already assigned to someone. Choose another token."),
        "oath.no_serial": _l("No available token has that serial number. Check the back of the token."),
    }
)

NOT_ENABLED = {
    "software": _l("Your organization has not enabled authenticator apps for you."),
    "hardware": _l("Your organization has not enabled hardware tokens for you."),
}


def _registration_refusal(kind: str):
    """The page refusing registration, or None. Policy decides the kind; and adding an MFA method when the
    user already has one takes a recent MFA (securityinfo.registration_refusal)."""
    if kind not in service.usable_kinds(g.sso.user):
        return render_template("error.html", title=_("Not available"), message=NOT_ENABLED[kind]), 403
    message = registration_refusal(g.sso.user, g.sso)
    if message:
        return render_template("error.html", title="Sign in again", message=message), 403
    return None


@securityinfo_pages.route("/oath/app", methods=["GET", "POST"])
@login_required
def add_app():
    user = g.sso.user
    refusal = _registration_refusal("software")
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
            record_admin_change("User registered authenticator app", "user", user.id)
            db.session.commit()
            return redirect(url_for("securityinfo.index"))
        error, need_next = result.message, result.need_next_code
        enrolment = service.enrolment_view(method, user)
    else:
        try:
            enrolment = service.start_software_enrolment(user)
        except service.OathError as failure:
            return refusal_page(failure, _("Cannot add an authenticator app"))
        db.session.commit()
    return render_template(
        "securityinfo/oath_app.html", enrolment=enrolment, qr=Markup(enrolment.qr_svg), error=error, need_next=need_next
    ), (400 if error else 200)


@securityinfo_pages.route("/oath/token", methods=["GET", "POST"])
@login_required
def add_token():
    user = g.sso.user
    refusal = _registration_refusal("hardware")
    if refusal:
        return refusal
    error, need_next = None, False
    if request.method == "POST":
        serial = request.form.get("serial", "").strip()[:128]
        device = db.session.scalar(
            select(HardwareOathDevice).where(
                HardwareOathDevice.tenant_id == g.tenant.id, HardwareOathDevice.serial_number == serial
            )
        )
        method = db.session.scalar(select(OathMethod).where(OathMethod.device_id == device.id)) if device else None
        try:
            if device is None or (method is not None and method.user_id != user.id):
                raise service.OathError(
                    "No available token has that serial number. Check the back of the token.",
                    reason_id="oath.no_serial",
                )
            code = request.form.get("code", "").strip()
            if method is not None:  # assigned to this user by an administrator: activate it
                result = service.activate(method, code)
            else:  # nothing is assigned until a code from the token verifies
                result = _claim_token(device, user, code)
        except service.OathError as failure:
            db.session.rollback()
            error = refusal_text(failure)
        else:
            db.session.commit()
            if result.ok:
                record_admin_change(
                    "User activated hardware OATH token", "user", user.id, after={"deviceId": device.id}
                )
                db.session.commit()
                return redirect(url_for("securityinfo.index"))
            error, need_next = result.message, result.need_next_code
    return render_template(
        "securityinfo/oath_token.html", error=error, need_next=need_next, serial=request.form.get("serial", "")
    ), (400 if error else 200)


PENDING_KEY = "oath_token_pending"  # a far match waiting for the next code: kept in the signed flow cookie


def _claim_token(device, user, code: str) -> service.Activation:
    pending = flask_session.get(PENDING_KEY) or {}
    found, method = service.claim_and_activate(
        device, user, code, pending.get(device.id) if isinstance(pending, dict) else None
    )
    if found.need_next_code:
        flask_session[PENDING_KEY] = {device.id: found.pending_step}
    else:
        flask_session.pop(PENDING_KEY, None)
    return service.Activation(method is not None, need_next_code=found.need_next_code, message=found.message)


@securityinfo_pages.post("/oath/<method_id>/delete")
@login_required
def delete_oath(method_id):
    method = db.session.get(OathMethod, method_id)
    if method is not None and method.user_id == g.sso.user.id:
        service.remove(method)
        record_admin_change("User deleted OATH method", "user", g.sso.user.id, after={"kind": method.kind})
        db.session.commit()
    return redirect(url_for("securityinfo.index"))


# --- admin console ---------------------------------------------------------------------------------


def console_panel(caller, user):
    try:
        grant = rbac.authorize(caller, user, "read", self_service=True)
    except rbac.MethodAccessError:
        return None
    return {"template": "console/oath_panel.html", "methods": service.methods_of(user.id), "grant": grant}


@console_pages.post("/users/<user_id>/oath/assign")
@admin_required
def console_assign(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    rbac.authorize(g.caller, user, "create", self_service=True)
    serial = request.form.get("serial", "").strip()[:128]
    device = db.session.scalar(
        select(HardwareOathDevice).where(
            HardwareOathDevice.tenant_id == g.tenant.id, HardwareOathDevice.serial_number == serial
        )
    )
    if device is None:
        return render_template(
            "error.html",
            title=_("Token not found"),
            message=_(
                "No token has the serial number %(serial)s. Check the serial number, then try again.", serial=serial
            ),
        ), 404
    try:
        service.assign(device, user)
    except service.OathError as failure:
        return refusal_page(failure, _("Hardware token not assigned"))
    record_admin_change("Assign hardware OATH token", "user", user.id, after={"deviceId": device.id})
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))


@console_pages.post("/users/<user_id>/oath/<method_id>/activate")
@admin_required
def console_activate(user_id, method_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    rbac.authorize(g.caller, user, "create", self_service=True)
    method = db.session.get(OathMethod, method_id)
    if method is None or method.user_id != user.id:
        abort(404)
    result = service.activate(method, request.form.get("code", "").strip())
    db.session.commit()
    if not result.ok:
        return render_template("error.html", title=_("Not activated"), message=result.message), 400
    record_admin_change("Activate hardware OATH token", "user", user.id, after={"deviceId": method.device_id})
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))


def _inventory_allowed(writing: bool) -> None:
    if not g.caller.roles & (Roles.POLICY_ADMINS if writing else Roles.POLICY_READERS):
        abort(403, description=N_("Only an Authentication Policy Administrator manages the token inventory."))


@console_pages.get("/oath/tokens")
@admin_required
def inventory():
    _inventory_allowed(writing=False)
    devices = db.session.scalars(
        select(HardwareOathDevice)
        .where(HardwareOathDevice.tenant_id == g.tenant.id)
        .order_by(HardwareOathDevice.serial_number)
        .limit(500)
    ).all()
    jobs = db.session.scalars(
        select(OathImportJob)
        .where(OathImportJob.tenant_id == g.tenant.id)
        .order_by(OathImportJob.created_at.desc())
        .limit(10)
    ).all()
    return render_template("console/oath_inventory.html", devices=devices, jobs=jobs)


@console_pages.post("/oath/tokens/import")
@admin_required
def upload():
    _inventory_allowed(writing=True)
    path = save_upload()
    job = importer.start(g.tenant.id, path, g.sso.user.id)
    record_admin_change("Import hardware OATH tokens", "user", None, after={"jobId": job.id})
    db.session.commit()
    return redirect(url_for("console.import_job", job_id=job.id))


@console_pages.get("/oath/imports/<job_id>")
@admin_required
def import_job(job_id):
    _inventory_allowed(writing=False)
    job = db.session.get(OathImportJob, job_id)
    if job is None or job.tenant_id != g.tenant.id:
        abort(404)
    return render_template("console/oath_import.html", job=job, message=reasons.shown(job.message))


@console_pages.get("/oath/imports/<job_id>/errors.csv")
@admin_required
def import_errors_csv(job_id):
    _inventory_allowed(writing=False)
    job = db.session.get(OathImportJob, job_id)
    if job is None or job.tenant_id != g.tenant.id:
        abort(404)
    return Response(
        stream_with_context(importer.error_csv(job.id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="oath-import-{job.id}-errors.csv"'},
    )
