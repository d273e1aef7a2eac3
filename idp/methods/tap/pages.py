"""TAP in the admin console (create, show once, delete) and in My Security Info (see, delete)."""
from flask import abort, g, redirect, render_template, request, url_for

from ... import clock
from ...audit import record_audit
from ...console import admin_required, bp as console_bp, user_panels
from ...directory import service as directory
from ...extensions import db
from ...policy import service as policy
from ...securityinfo import MethodEntry, bp as securityinfo_bp, panels
from ...signin.sessions import login_required
from . import service
from .policy import CONFIG


def _console_panel(caller, user):
    try:
        service.authorize(caller, user, "read")
    except service.TapError:
        return None
    tap = service.live_pass(user.id)
    usable = service.usability(tap, user) if tap else None
    settings = policy.get(user.tenant_id, CONFIG.method_id).settings
    return {"template": "console/tap_panel.html", "tap": tap, "usable": usable, "settings": settings,
            "external_guest": user.is_external_guest}


user_panels.append(_console_panel)


def _audit(activity, user, before=None, after=None):
    record_audit(tenant_id=user.tenant_id, actor_id=g.sso.user.id, actor_type="user", activity=activity,
                 target_type="user", target_id=user.id, before=before, after=after)


@console_bp.post("/users/<user_id>/tap")
@admin_required
def console_create_tap(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    try:
        service.authorize(g.caller, user, "create")
        lifetime = int(request.form.get("lifetime") or 0) or None
        start = request.form.get("start") or None
        tap, code = service.create(user, g.sso.user.id, start, lifetime, request.form.get("once") == "on" or None)
    except ValueError:
        return render_template("error.html", title="Not created", message="Lifetime must be a whole number of minutes."), 400
    except service.TapError as error:
        return render_template("error.html", title="Temporary Access Pass not created", message=error.message), error.status
    _audit("Admin registered temporary access pass method for user", user,
           after={"id": tap.id, "lifetimeInMinutes": tap.lifetime_minutes, "isUsableOnce": tap.is_usable_once})
    db.session.commit()
    return render_template("console/tap_created.html", user=user, tap=tap, code=code)


@console_bp.post("/users/<user_id>/tap/delete")
@admin_required
def console_delete_tap(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    tap = service.live_pass(user.id) or abort(404)
    try:
        service.authorize(g.caller, user, "delete")
    except service.TapError as error:
        abort(403, description=error.message)
    service.remove(tap)
    _audit("Admin deleted temporary access pass method for user", user, before={"id": tap.id})
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))


def _security_info_panel(user, session):
    tap = service.live_pass(user.id)
    if tap is None:
        return []
    usable, reason = service.usability(tap, user)
    detail = f"Valid until {clock.iso(tap.ends_at)}" + (" · one-time" if tap.is_usable_once else "")
    if not usable:
        detail += f" · not usable ({reason})"
    return [MethodEntry("tap", "Temporary Access Pass", detail, "securityinfo.delete_tap", counts_as_method=False)]


panels.append(_security_info_panel)


@securityinfo_bp.post("/tap/delete")
@login_required
def delete_tap():
    tap = service.live_pass(g.sso.user.id)
    if tap is not None:
        service.remove(tap)
        record_audit(tenant_id=g.tenant.id, actor_id=g.sso.user.id, actor_type="user",
                     activity="User deleted temporary access pass method", target_type="user", target_id=g.sso.user.id)
        db.session.commit()
    return redirect(url_for("securityinfo.index"))
