"""The authenticator in My Security Info: pair a device by scanning a QR code, delete it."""

import io
from urllib.parse import urlencode

import segno
from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ...ui import refusal_page
from ...audit import record_admin_change
from ...extensions import db
from ...oidc import naming
from ...kit.securityinfo import MethodEntry
from ...kit.securityinfo import pages as securityinfo_pages
from ...signin.guard import login_required
from . import service
from .models import AuthenticatorDevice, AuthenticatorPairing


def security_info_entries(user, session):
    return [
        MethodEntry(
            "authenticator",
            "Microsoft Authenticator",
            _("%(device)s · push notifications", device=d.display_name),
            "securityinfo.delete_authenticator",
            {"device_id": d.id},
        )
        for d in service.devices_of(user.id)
    ]


def security_info_actions(user, session):
    if user.is_external_guest or not service.allowed(user):
        return []
    return [{"label": _("Add Microsoft Authenticator (notifications)"), "endpoint": "securityinfo.add_authenticator"}]


def pairing_link(code: str) -> str:
    """What the QR code holds: where the device pairs, for which tenant, with which one-time code."""
    return "idp-authenticator://pair?" + urlencode({"server": naming.base_url(), "tenant": g.tenant.id, "code": code})


def _qr_svg(text: str) -> Markup:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True)
    return Markup(buffer.getvalue().decode())


@securityinfo_pages.route("/authenticator", methods=["GET", "POST"])
@login_required
def add_authenticator():
    user = g.sso.user
    if user.is_external_guest or not service.allowed(user):
        return render_template(
            "error.html",
            title=_("Not available"),
            message=_("Your organization has not enabled Microsoft Authenticator for you."),
        ), 403
    if request.method == "POST":
        pairing = db.session.get(AuthenticatorPairing, request.form.get("pairing_id", ""))
        if pairing is None or pairing.user_id != user.id:
            abort(400, description=_("This set-up has expired. Start again."))
        if pairing.device_id:
            record_admin_change(
                "User registered Microsoft Authenticator", "user", user.id, after={"deviceId": pairing.device_id}
            )
            db.session.commit()
            return redirect(url_for("securityinfo.index"))
        return render_template(
            "securityinfo/authenticator.html",
            pairing=pairing,
            link=None,
            qr=None,
            error=_("The app hasn't paired yet. Scan the QR code with the app first."),
        ), 400
    if g.sso.mfa_at is None and service.devices_of(user.id):  # a stolen password must not add the thief's phone
        return render_template(
            "error.html",
            title=_("Sign in again"),
            message=_("To add another authenticator, sign in again with your existing method first."),
        ), 403
    try:
        pairing, code = service.start_pairing(user)
    except service.PushError as error:
        return refusal_page(error, _("Cannot add an authenticator"))
    db.session.commit()
    link = pairing_link(code)
    return render_template("securityinfo/authenticator.html", pairing=pairing, link=link, qr=_qr_svg(link))


@securityinfo_pages.post("/authenticator/<device_id>/delete")
@login_required
def delete_authenticator(device_id):
    device = db.session.get(AuthenticatorDevice, device_id)
    if device is not None and device.user_id == g.sso.user.id:
        service.remove(device)
        record_admin_change("User deleted Microsoft Authenticator", "user", g.sso.user.id)
        db.session.commit()
    return redirect(url_for("securityinfo.index"))


def registered_user_ids(tenant_id: str) -> set[str]:
    """Users with a paired authenticator (the console dashboard's MFA coverage)."""
    from sqlalchemy import select

    return set(
        db.session.scalars(select(AuthenticatorDevice.user_id).where(AuthenticatorDevice.tenant_id == tenant_id))
    )
