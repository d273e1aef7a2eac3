"""Phones in My Security Info: add a number (proven by a texted code, or by answering a call with #), delete it."""

from types import SimpleNamespace

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...ui import refusal_page
from ...audit import record_admin_change
from ...kit.console import admin_required
from ...kit.console import pages as console_pages
from ...directory.models import Roles
from ...extensions import db, limiter
from ...i18n.names import N_
from ...kit.securityinfo import MethodEntry
from ...kit.securityinfo import pages as securityinfo_pages
from ...signin.guard import login_required
from . import numbers, service, voice, voice_messages
from .models import PhoneCall, VoiceMessage

#: translated where shown (N_ marks them for the catalogues)
LABELS = {"mobile": N_("Phone"), "alternateMobile": N_("Alternate phone"), "office": N_("Office phone")}


def security_info_entries(user, session):
    phones = service.phones_of(user.id)
    return [
        MethodEntry(
            "phone",
            _(LABELS[t]),
            numbers.graph_format(phones[t].number, phones[t].extension),
            "securityinfo.delete_phone",
            {"phone_type": t},
        )
        for t in service.TYPES
        if t in phones
    ]


def security_info_actions(user, session):
    if user.is_external_guest or not (service.sms_allowed(user) or service.voice_allowed(user)):
        return []
    missing = [t for t in service.TYPES if t not in service.phones_of(user.id)]
    return [{"label": _("Add a phone"), "endpoint": "securityinfo.add_phone"}] if missing else []


def _refusal():
    user = g.sso.user
    if user.is_external_guest or not (service.sms_allowed(user) or service.voice_allowed(user)):
        return render_template(
            "error.html",
            title=_("Not available"),
            message=_("Your organization has not enabled phone verification for you."),
        ), 403
    if g.sso.mfa_at is None and service.phones_of(user.id):
        return render_template(
            "error.html",
            title=_("Sign in again"),
            message=_("To add another phone, sign in again with your existing method first."),
        ), 403
    return None


def _types_open(user) -> list[str]:
    phones = service.phones_of(user.id)
    return [t for t in service.TYPES if t not in phones and (t != "alternateMobile" or "mobile" in phones)]


@securityinfo_pages.route("/phone", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per 5 minutes", methods=["POST"])
def add_phone():
    user = g.sso.user
    refusal = _refusal()
    if refusal:
        return refusal
    types = _types_open(user)
    if request.method == "GET":
        return render_template("securityinfo/phone.html", types=types, labels=LABELS)
    phone_type, text = request.form.get("phone_type", ""), request.form.get("number", "")
    try:
        if phone_type not in types:
            raise service.PhoneError(_("Choose which phone this is."))
        if not text.strip():  # the service's message names Graph's phoneNumber property
            raise service.PhoneError(_("Enter your phone number, starting with + and the country code."))
        number, extension = service.parse_number(text, phone_type)
        if phone_type == "mobile" and service.sms_allowed(user):
            service.send_code(user, "register", number, phone_type, extension)
            return render_template("securityinfo/phone_verify.html", masked=numbers.masked(number), call=None)
        call = voice.place(user, SimpleNamespace(number=number, phone_type=phone_type), None)
    except service.PhoneError as error:
        return render_template(
            "securityinfo/phone.html", types=types, labels=LABELS, error=error.message, number=text, chosen=phone_type
        ), 400
    return render_template("securityinfo/phone_verify.html", masked=numbers.masked(number), call=call)


@securityinfo_pages.post("/phone/verify")
@login_required
@limiter.limit("10 per 5 minutes")
def verify_phone():
    user = g.sso.user
    refusal = _refusal()
    if refusal:
        return refusal
    call_id = request.form.get("call_id")
    if call_id:
        call = db.session.get(PhoneCall, call_id)
        if call is None or call.user_id != user.id or call.txn_id is not None:
            abort(400, description=_("This set-up has expired. Start again."))
        state = voice.outcome(call.id)
        if state != "verified":
            message = (
                _("Answer the call and press # to confirm the number.")
                if state == "pending"
                else _("The call didn't confirm the number. Start again.")
            )
            return render_template(
                "securityinfo/phone_verify.html", masked=numbers.masked(call.number), call=call, error=message
            ), 400
        proven = SimpleNamespace(number=call.number, phone_type=call.phone_type, extension=None)
    else:
        proven = service.verify_code(user, "register", request.form.get("code", "").strip())
        if isinstance(proven, str):
            return render_template(
                "securityinfo/phone_verify.html", masked=_("your phone"), call=None, error=_(proven)
            ), 400
    try:
        row = service.add(user, proven.phone_type, numbers.graph_format(proven.number, proven.extension))
    except service.PhoneError as error:
        return refusal_page(error, _("Phone not added"))
    record_admin_change("User registered phone", "user", user.id, after={"phoneType": row.phone_type})
    db.session.commit()
    return redirect(url_for("securityinfo.index"))


@securityinfo_pages.post("/phone/<phone_type>/delete")
@login_required
def delete_phone(phone_type):
    row = service.phones_of(g.sso.user.id).get(phone_type)
    if row is not None:
        try:
            service.remove(row)
        except service.PhoneError as error:
            return refusal_page(error, _("Phone not deleted"))
        record_admin_change("User deleted phone", "user", g.sso.user.id, after={"phoneType": phone_type})
        db.session.commit()
    return redirect(url_for("securityinfo.index"))


# --- console: custom voice messages -----------------------------------------------------------------------


def _voice_messages_page(error=None, status=200):
    return render_template(
        "console/voice_messages.html",
        messages=voice_messages.listing(g.tenant.id),
        types=voice.MESSAGE_TYPES,
        languages=voice.LANGUAGES,
        scripts=voice.SCRIPTS,
        may_edit=bool(g.caller.roles & Roles.POLICY_ADMINS),
        error=error,
        caller_id=voice.caller_id(g.tenant.id),
    ), status


@console_pages.get("/mfa/voice-messages")
@admin_required
def voice_messages_page():
    return _voice_messages_page()


@console_pages.post("/mfa/voice-messages")
@admin_required
def upload_voice_message():
    if not g.caller.roles & Roles.POLICY_ADMINS:
        abort(403)
    upload = request.files.get("file")
    try:
        if upload is None:
            raise voice_messages.UploadError(_("Choose a .wav or .mp3 file."))
        row = voice_messages.save(
            g.tenant.id,
            request.form.get("message_type", ""),
            request.form.get("language", ""),
            upload.filename or "",
            upload.stream,
        )
    except voice_messages.UploadError as error:
        db.session.rollback()
        return _voice_messages_page(_(str(error)), 400)  # a marked rule, or a Message already in words
    record_admin_change(
        "Upload custom voice message",
        "user",
        None,
        after={"messageType": row.message_type, "language": row.language, "durationMs": row.duration_ms},
    )
    db.session.commit()
    return redirect(url_for("console.voice_messages_page"))


@console_pages.post("/mfa/voice-messages/<message_id>/delete")
@admin_required
def delete_voice_message(message_id):
    row = db.session.get(VoiceMessage, message_id)
    if row is None or row.tenant_id != g.tenant.id:
        abort(404)
    if not g.caller.roles & Roles.POLICY_ADMINS:
        abort(403)
    record_admin_change(
        "Delete custom voice message", "user", None, after={"messageType": row.message_type, "language": row.language}
    )
    db.session.delete(row)
    db.session.commit()
    return redirect(url_for("console.voice_messages_page"))


def registered_user_ids(tenant_id: str) -> set[str]:
    """Users with a phone (the console dashboard's MFA coverage)."""
    from sqlalchemy import select

    from .models import PhoneMethod

    return set(db.session.scalars(select(PhoneMethod.user_id).where(PhoneMethod.tenant_id == tenant_id)))
