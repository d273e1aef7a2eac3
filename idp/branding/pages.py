"""The console's Company branding page: the same checks as Graph's organizationalBranding."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..audit import record_admin_change
from ..kit.console import admin_required
from ..kit.console import pages as console_pages
from ..directory.models import Roles
from ..extensions import db
from ..ui import refusal_text
from . import service


def _field_errors() -> dict:
    return {
        "backgroundColor": _("Enter a colour in hexadecimal form, such as #0078D4."),
        "signInPageText": _("At most 1024 characters, without control characters."),
        "usernameHintText": _("At most 64 characters, without control characters."),
        "bannerLogo": _("Upload a PNG or JPEG image of at most 245 x 36 pixels and 50 KB. SVG is not accepted."),
    }


def _may_edit() -> bool:
    return Roles.GLOBAL_ADMIN in g.caller.roles


def _entered() -> dict:
    return {
        "backgroundColor": request.form.get("backgroundColor", "")[:64] or None,
        "signInPageText": request.form.get("signInPageText", "")[:4096] or None,
        "usernameHintText": request.form.get("usernameHintText", "")[:256] or None,
    }


def _page(values: dict, errors: dict, status: int = 200):
    row = service.find(g.tenant.id)
    return render_template(
        "console/branding.html",
        values=values,
        errors=errors,
        has_logo=bool(row and row.banner_logo),
        may_edit=_may_edit(),
    ), status


@console_pages.route("/branding", methods=["GET", "POST"])
@admin_required
def branding():
    if request.method == "GET":
        row = service.find(g.tenant.id)
        values = {
            "backgroundColor": row.background_color if row else None,
            "signInPageText": row.sign_in_page_text if row else None,
            "usernameHintText": row.username_hint_text if row else None,
        }
        return _page(values, {})
    values = _entered()
    if not _may_edit():
        return _page(values, {"form": _("Only a Global Administrator can change the company branding.")}, 403)
    try:
        changes = service.update(g.tenant.id, values)
        upload = request.files.get("bannerLogo")
        if upload is not None and upload.filename:
            service.set_logo(g.tenant.id, upload.read(service.MAX_LOGO_BYTES + 1))
            changes["bannerLogo"] = (None, "replaced")
        elif request.form.get("removeLogo") == "on":
            service.set_logo(g.tenant.id, None)
            changes["bannerLogo"] = ("replaced", None)
    except service.BrandingError as error:
        db.session.rollback()
        return _page(
            values, {error.target or "form": _field_errors().get(error.target or "") or refusal_text(error)}, 400
        )
    record_admin_change(
        "Update company branding", "Organization", g.tenant.id, after={k: v[1] for k, v in changes.items()}
    )
    db.session.commit()
    flash(_("Company branding saved."), "ok")
    return redirect(url_for("console.branding"), 303)
