"""TAP in the admin console (create, show once, delete) and in My Security Info (see, delete)."""

from flask import abort, g, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...ui import refusal_page, say
from ... import crypto
from ...audit import record_admin_change
from ...kit.console import admin_required
from ...kit.console import pages as console_pages
from ...directory import service as directory
from ...extensions import db
from ...policy import service as policy
from ...kit.securityinfo import MethodEntry
from ...kit.securityinfo import pages as securityinfo_pages
from ...signin.guard import login_required
from . import service
from .models import TemporaryAccessPass
from .policy import CONFIG


say(
    {
        "tap.start_invalid": _l("Enter the start as a date and time, or leave it empty to start now."),
        "tap.start_past": _l("The start is in the past. Choose a time from now on, or leave it empty to start now."),
        "tap.start_too_far": _l("The start is too far ahead. Choose a time within %(days)s days from now."),
        "tap.lifetime": _l(
            "The lifetime must be %(low)s to %(high)s minutes, as the Temporary Access Pass policy allows. "
            "Enter a number in that range."
        ),
        "tap.usable_once": _l("Choose whether the pass can be used once or many times."),
        "tap.only_one_time": _l(
            "The Temporary Access Pass policy allows one-time passes only. Select One-time use, then try again."
        ),
        "tap.own_pass": _l(
            "Nobody can create or delete their own Temporary Access Pass. Ask another administrator to do it."
        ),
    }
)


def console_panel(caller, user):
    try:
        service.authorize(caller, user, "read")
    except service.TapError:
        return None
    tap = service.live_pass(user.id)
    usable = service.usability(tap, user) if tap else None
    settings = policy.get(user.tenant_id, CONFIG.method_id).settings
    return {
        "template": "console/tap_panel.html",
        "tap": tap,
        "usable": usable,
        "settings": settings,
        "external_guest": user.is_external_guest,
    }


def _form_fields(form) -> dict:
    """The console's form in the API's property names; the service validates both alike."""
    fields = {}
    if form.get("start"):
        fields["startDateTime"] = form["start"]
    lifetime = form.get("lifetime", "").strip()
    if lifetime:
        fields["lifetimeInMinutes"] = int(lifetime) if lifetime.isdigit() and len(lifetime) < 10 else lifetime
    if form.get("once") == "on":
        fields["isUsableOnce"] = True
    return fields


@console_pages.post("/users/<user_id>/tap")
@admin_required
def console_create_tap(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    try:
        service.authorize(g.caller, user, "create")
        tap, code = service.create_from(user, g.sso.user.id, _form_fields(request.form))
    except service.TapError as error:
        return refusal_page(error, _("Temporary Access Pass not created"))
    record_admin_change(
        "Admin registered temporary access pass method for user",
        "user",
        user.id,
        after={"id": tap.id, "lifetimeInMinutes": tap.lifetime_minutes, "isUsableOnce": tap.is_usable_once},
        tenant_id=user.tenant_id,
    )
    db.session.commit()
    # Post/redirect/get: the code rides, sealed, to the one GET that shows it; a refresh shows it no more and
    # creates nothing.
    flask_session[SHOW_ONCE] = {"tap": tap.id, "code": crypto.seal(code.encode(), f"tap-shown:{tap.id}")}
    return redirect(url_for("console.tap_created", user_id=user.id, tap_id=tap.id), 303)


SHOW_ONCE = "tap_show_once"


@console_pages.get("/users/<user_id>/tap/<tap_id>")
@admin_required
def tap_created(user_id, tap_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    tap = db.session.get(TemporaryAccessPass, tap_id)
    if tap is None or tap.user_id != user.id:
        abort(404, description=_("No such Temporary Access Pass."))
    pending = flask_session.pop(SHOW_ONCE, None)
    code = None
    if pending and pending.get("tap") == tap.id:
        code = crypto.unseal(pending["code"], f"tap-shown:{tap.id}").decode()
    return render_template(
        "console/tap_created.html",
        user=user,
        tap=tap,
        code=code,
        live=getattr(service.live_pass(user.id), "id", None) == tap.id,
    )


@console_pages.post("/users/<user_id>/tap/delete")
@admin_required
def console_delete_tap(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    tap = service.live_pass(user.id) or abort(404)
    service.authorize(g.caller, user, "delete")
    service.remove(tap)
    record_admin_change(
        "Admin deleted temporary access pass method for user",
        "user",
        user.id,
        before={"id": tap.id},
        tenant_id=user.tenant_id,
    )
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))


def security_info_entries(user, session):
    tap = service.live_pass(user.id)
    if tap is None:
        return []
    usable, reason = service.usability(tap, user)
    detail = _("Valid until %(when)s", when=format_datetime(tap.ends_at, "medium"))
    if tap.is_usable_once:
        detail += " · " + _("one-time")
    if not usable:
        detail += " · " + _("not usable (%(reason)s)", reason=reason)
    return [
        MethodEntry(
            "tap", _("Temporary Access Pass"), detail, "securityinfo.delete_tap", counts_as_method=False, usable=usable
        )
    ]


@securityinfo_pages.post("/tap/delete")
@login_required
def delete_tap():
    tap = service.live_pass(g.sso.user.id)
    if tap is not None:
        service.remove(tap)
        record_admin_change("User deleted temporary access pass method", "user", g.sso.user.id)
        db.session.commit()
    return redirect(url_for("securityinfo.index"))
