"""Passkeys in My Security Info (register, list, delete) and the admin console (user panel, FIDO metadata)."""

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ... import clock
from ...audit import record_admin_change
from ...kit.console import admin_required
from ...kit.console import pages as console_pages
from ...directory import service as directory
from ...directory.models import Roles
from ...extensions import db
from ...i18n.names import N_
from ...inputs import load_json
from ...kit.securityinfo import MethodEntry
from ...kit.securityinfo import pages as securityinfo_pages
from ...signin.guard import login_required
from ...ui import refusal_text, say
from .. import rbac
from . import mds, service
from .models import Passkey
from .policy import microsoft_authenticator_listed

console_pages.add_app_template_global(microsoft_authenticator_listed)


def describe(passkey: Passkey) -> str:
    level = _("attested") if passkey.attestation_level == "attested" else _("not attested")
    return _(
        "%(model)s · AAGUID %(aaguid)s · added %(date)s · %(level)s",
        model=passkey.model or _("Passkey"),
        aaguid=passkey.aaguid,
        date=format_date(passkey.created_at),
        level=level,
    )


# --- My Security Info ------------------------------------------------------------------------------


def security_info_entries(user, session):
    entries = []
    for passkey in service.passkeys_of(user.id):
        notice = None
        if passkey.upn_at_registration != user.upn:
            notice = _(
                "Your account was renamed: your device still shows this passkey as %(old)s. It keeps working; "
                "register it again to show %(new)s.",
                old=passkey.upn_at_registration,
                new=user.upn,
            )
        entries.append(
            MethodEntry(
                "passkey",
                passkey.display_name,
                describe(passkey),
                "securityinfo.delete_passkey",
                {"passkey_id": passkey.id},
                notice=notice,
            )
        )
    return entries


def registered_user_ids(tenant_id: str) -> set[str]:
    """Users with a passkey (the console dashboard's MFA coverage)."""
    from sqlalchemy import select

    return set(db.session.scalars(select(Passkey.user_id).where(Passkey.tenant_id == tenant_id)))


def security_info_actions(user, session):
    """Offered only when it will be allowed, or when signing in again is all it takes."""
    refusal = service.self_service_refusal(user, session)
    return (
        [{"label": _("Add a passkey"), "endpoint": "securityinfo.add_passkey"}] if refusal is None or refusal[1] else []
    )


say(
    {
        "passkey.expired": _l("This passkey set-up has expired or was already used. Start again."),
        "passkey.malformed": _l("The browser's passkey response could not be read. Try again."),
        "passkey.model": _l(
            "This security key model is not allowed by your organization. Use another passkey, or ask your "
            "administrator which models are allowed."
        ),
        "passkey.synced": _l(
            "This is a synced passkey (backed up to a cloud account). Your organization accepts only passkeys "
            "kept on one device: use a security key or Microsoft Authenticator."
        ),
        "passkey.registered": _l("This passkey is already registered. You can use it to sign in."),
        "passkey.unverified": _l("The passkey could not be verified. Try again."),
        "passkey.attestation": _l(
            "Your organization requires a security key whose make and model can be verified, and this one "
            "cannot be. Use another security key, or ask your administrator."
        ),
    }
)


def _refusal_page(message: str, reauth: bool):
    again = url_for("signin.start", return_to=url_for("securityinfo.add_passkey")) if reauth else None
    return render_template("securityinfo/passkey_refused.html", message=message, again=again), 403


@securityinfo_pages.route("/passkey", methods=["GET", "POST"])
@login_required
def add_passkey():
    user = g.sso.user
    refusal = service.self_service_refusal(user, g.sso)
    if refusal:
        return _refusal_page(*refusal)
    error, status = None, 200
    if request.method == "POST":
        try:
            credential = load_json(request.form.get("credential") or "null", max_bytes=64 * 1024, max_depth=8)
            passkey = service.register(user, credential, request.form.get("display_name", ""), "self")
        except service.PasskeyError as failure:
            db.session.rollback()
            error, status = refusal_text(failure), failure.status  # a policy refusal is 403, as over Graph
        except ValueError:
            error, status = _("The browser's passkey response could not be read. Try again."), 400
        else:
            record_admin_change(
                "User registered passkey",
                "user",
                user.id,
                after={"id": passkey.id, "aaGuid": passkey.aaguid, "attestationLevel": passkey.attestation_level},
            )
            db.session.commit()
            return redirect(url_for("securityinfo.index"))
    options, _challenge = service.begin_registration(user, "self", service.SELF_SERVICE_TIMEOUT)
    db.session.commit()
    return render_template(
        "securityinfo/passkey.html", options=options, error=error, name=request.form.get("display_name", "")
    ), status


@securityinfo_pages.post("/passkey/<passkey_id>/delete")
@login_required
def delete_passkey(passkey_id):
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is not None and passkey.user_id == g.sso.user.id:
        service.remove(passkey)
        record_admin_change(
            "User deleted passkey", "user", g.sso.user.id, before={"id": passkey.id, "aaGuid": passkey.aaguid}
        )
        db.session.commit()
    return redirect(url_for("securityinfo.index"))


# --- admin console ---------------------------------------------------------------------------------


def console_panel(caller, user):
    try:
        grant = rbac.authorize(caller, user, "read", self_service=True)
    except rbac.MethodAccessError:
        return None
    return {
        "template": "console/passkey_panel.html",
        "passkeys": service.passkeys_of(user.id),
        "grant": grant,
        "describe": describe,
    }


@console_pages.post("/users/<user_id>/passkeys/<passkey_id>/delete")
@admin_required
def console_delete_passkey(user_id, passkey_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    rbac.authorize(g.caller, user, "delete", self_service=True)
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        abort(404)
    service.remove(passkey)
    record_admin_change("Delete passkey", "user", user.id, before={"id": passkey.id, "aaGuid": passkey.aaguid})
    db.session.commit()
    return redirect(url_for("console.user_page", user_id=user.id))


@console_pages.route("/passkeys/metadata", methods=["GET", "POST"])
@admin_required
def passkey_metadata():
    may_edit = bool(g.caller.roles & Roles.POLICY_ADMINS)
    error = None
    if request.method == "POST":
        if not may_edit:
            abort(403, description=_("Only an Authentication Policy Administrator may load FIDO metadata."))
        upload = request.files.get("blob")
        try:
            if upload is None:
                raise mds.MetadataError(N_("Choose the MDS3 BLOB file to upload."))
            row = mds.load(upload.read(mds.MAX_BLOB_BYTES + 1), f"console upload by {g.sso.user.upn}")
        except mds.MetadataError as failure:
            db.session.rollback()
            error = failure.args[0]  # a marked message (or a Message with its values): the page translates it
        else:
            record_admin_change(
                "Load FIDO metadata BLOB", "user", None, after={"serial": row.serial, "entries": len(row.entries)}
            )
            db.session.commit()
            return redirect(url_for("console.passkey_metadata"))
    return render_template(
        "console/fido2_metadata.html", blob=mds.latest(), error=error, may_edit=may_edit, now=clock.now()
    ), (400 if error else 200)
