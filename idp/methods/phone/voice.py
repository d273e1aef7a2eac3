"""The MFA voice call: its IVR (answer, press #; the fraud code; confirming a block with 1), the scripts it
plays, and the custom voice messages that replace them for users of the message's language."""

from datetime import timedelta

from flask import has_request_context, request, url_for
from sqlalchemy import select, update

from ...i18n.names import Message, N_
from ... import clock, i18n, telephony
from ...extensions import db
from ...mfa import settings as mfa_settings
from ...signin import hooks
from .models import PhoneCall, VoiceMessage

CALL_LIFETIME = timedelta(seconds=telephony.RING_SECONDS + 120)  # ringing, then time to press keys
LANGUAGES = ("en", "de", "fr", "es", "ja")
TERMINAL = ("verified", "fraud", "failed", "no-answer", "hung-up")

#: the standard scripts, per message type and language ({code} is the fraud code)
SCRIPTS = {
    "authenticationGreeting": {
        "en": "Thank you for using the Microsoft sign-in verification system. Please press pound to finish your "
        "verification.",
        "de": "Vielen Dank, dass Sie das Microsoft-Anmeldeüberprüfungssystem verwenden. Drücken Sie die Rautetaste, "
        "um die Überprüfung abzuschließen.",
        "fr": "Merci d'utiliser le système de vérification de connexion de Microsoft. Appuyez sur la touche dièse "
        "pour terminer la vérification.",
        "es": "Gracias por usar el sistema de verificación de inicio de sesión de Microsoft. Presione la tecla de "
        "almohadilla para completar la verificación.",
        "ja": "Microsoft のサインイン確認システムをご利用いただきありがとうございます。確認を完了するには、シャープ キーを押してください。",
    },
    "fraudGreeting": {
        "en": "Thank you for using the Microsoft sign-in verification system. Please press pound to finish your "
        "verification. If you didn't try to sign in, someone may be trying to use your account: press {code} "
        "and then pound to report it.",
        "de": "Vielen Dank, dass Sie das Microsoft-Anmeldeüberprüfungssystem verwenden. Drücken Sie die Rautetaste, "
        "um die Überprüfung abzuschließen. Wenn Sie sich nicht anmelden wollten, drücken Sie {code} und dann "
        "die Rautetaste, um dies zu melden.",
        "fr": "Merci d'utiliser le système de vérification de connexion de Microsoft. Appuyez sur la touche dièse "
        "pour terminer la vérification. Si vous n'avez pas essayé de vous connecter, appuyez sur {code} puis "
        "sur dièse pour le signaler.",
        "es": "Gracias por usar el sistema de verificación de inicio de sesión de Microsoft. Presione la tecla de "
        "almohadilla para completar la verificación. Si no intentó iniciar sesión, presione {code} y luego "
        "almohadilla para notificarlo.",
        "ja": "Microsoft のサインイン確認システムをご利用いただきありがとうございます。確認を完了するには、シャープ キーを押してください。"
        "サインインしようとしていない場合は、だれかがあなたのアカウントを使おうとしている可能性があります。報告するには、"
        "{code} を押してからシャープ キーを押してください。",
    },
    "fraudConfirmation": {
        "en": "You reported that you didn't try to sign in. To block your account from further verification "
        "attempts, press 1.",
        "de": "Sie haben gemeldet, dass Sie sich nicht anmelden wollten. Drücken Sie 1, um Ihr Konto für weitere "
        "Überprüfungen zu sperren.",
        "fr": "Vous avez signalé ne pas avoir essayé de vous connecter. Pour bloquer votre compte, appuyez sur 1.",
        "es": "Informó que no intentó iniciar sesión. Para bloquear su cuenta, presione 1.",
        "ja": "サインインしようとしていないと報告されました。今後の確認の試行からアカウントをブロックするには、1 を押してください。",
    },
    "fraudReported": {
        "en": "Your report has been submitted and this sign-in was denied. Contact your organization's help desk "
        "if you need help. Goodbye.",
        "de": "Ihre Meldung wurde übermittelt und diese Anmeldung abgelehnt. Wenden Sie sich bei Fragen an Ihren "
        "Helpdesk. Auf Wiederhören.",
        "fr": "Votre signalement a été envoyé et cette connexion a été refusée. Contactez votre support si besoin. "
        "Au revoir.",
        "es": "Su informe se ha enviado y este inicio de sesión se ha denegado. Póngase en contacto con su soporte "
        "si necesita ayuda. Adiós.",
        "ja": "報告を送信し、このサインインを拒否しました。サポートが必要な場合は、組織のヘルプデスクにお問い合わせください。"
        "さようなら。",
    },
    "authenticationSuccessful": {
        "en": "Your sign-in was successfully verified. Goodbye.",
        "de": "Ihre Anmeldung wurde erfolgreich überprüft. Auf Wiederhören.",
        "fr": "Votre connexion a été vérifiée. Au revoir.",
        "es": "Su inicio de sesión se verificó correctamente. Adiós.",
        "ja": "サインインは正常に確認されました。さようなら。",
    },
    "authenticationFailed": {
        "en": "Sorry, we can't verify your sign-in right now. Please try again later. Goodbye.",
        "de": "Ihre Anmeldung kann gerade nicht überprüft werden. Versuchen Sie es später erneut. Auf Wiederhören.",
        "fr": "Nous ne pouvons pas vérifier votre connexion pour le moment. Réessayez plus tard. Au revoir.",
        "es": "No podemos verificar su inicio de sesión en este momento. Inténtelo más tarde. Adiós.",
        "ja": "申し訳ありません。現在サインインを確認できません。後でもう一度お試しください。さようなら。",
    },
}
MESSAGE_TYPES = {  # the console translates the titles
    "authenticationGreeting": N_("Authentication greeting"),
    "fraudGreeting": N_("Fraud greeting"),
    "fraudConfirmation": N_("Fraud confirmation (press 1 to block)"),
    "fraudReported": N_("Fraud reported"),
    "authenticationSuccessful": N_("Authentication successful"),
    "authenticationFailed": N_("Authentication failed"),
}


def call_language(user) -> str:
    """The user's preferred language, else the sign-in's (the page's choice, then the browser's)."""
    preferred = (user.preferred_language or "").replace("_", "-").split("-")[0].lower()
    if preferred in LANGUAGES:
        return preferred
    if not has_request_context():
        return "en"
    chosen = request.cookies.get(i18n.COOKIE)
    return chosen if chosen in LANGUAGES else request.accept_languages.best_match(LANGUAGES) or "en"


def prompt(tenant_id: str, message_type: str, language: str, **values) -> telephony.Prompt:
    """The standard script in the caller's language, or the tenant's recording for exactly that language."""
    scripts = SCRIPTS[message_type]
    script = scripts.get(language, scripts["en"]).format(**values)
    custom = db.session.scalar(
        select(VoiceMessage.id).where(
            VoiceMessage.tenant_id == tenant_id,
            VoiceMessage.message_type == message_type,
            VoiceMessage.language == language,
        )
    )
    audio = url_for("phone_audio.voice_message", message_id=custom, _external=True) if custom else None
    return telephony.Prompt(script, audio_url=audio)


def caller_id(tenant_id: str) -> str | None:
    return mfa_settings.get(tenant_id, "phoneCallSettings")["callerIdNumber"] or None


def place(user, phone, txn_id: str | None) -> PhoneCall:
    from .service import PhoneError

    call = PhoneCall(
        tenant_id=user.tenant_id,
        user_id=user.id,
        txn_id=txn_id,
        number=phone.number,
        phone_type=phone.phone_type,
        language=call_language(user),
        expires_at=clock.now() + CALL_LIFETIME,
    )
    db.session.add(call)
    db.session.flush()
    try:
        call.provider_id = telephony.provider().place_call(phone.number, caller_id(user.tenant_id), f"mfa:{call.id}")
    except telephony.TelephonyError as error:
        db.session.rollback()
        raise PhoneError(
            Message(N_("We couldn't call your phone: %(error)s Try again in a moment."), error=Message(error.args[0])),
            503,
        ) from None
    db.session.commit()
    return call


def live_call(call_id) -> PhoneCall | None:
    """The call still going, or verified and not yet used (so reloading the page does not call again)."""
    call = db.session.get(PhoneCall, call_id) if isinstance(call_id, str) else None
    if call is None or clock.now() >= call.expires_at:
        return None
    if call.state not in TERMINAL or (call.state == "verified" and call.consumed_at is None):
        return call
    return None


def outcome(call_id) -> str:
    """verified (claimed by this sign-in, once), pending, or how the call ended."""
    call = db.session.get(PhoneCall, call_id) if isinstance(call_id, str) else None
    if call is None:
        return "failed"
    db.session.refresh(call)
    if call.state == "verified":
        claimed = db.session.execute(
            update(PhoneCall)
            .where(PhoneCall.id == call.id, PhoneCall.consumed_at.is_(None))
            .values(consumed_at=clock.now())
        ).rowcount
        db.session.commit()
        return "verified" if claimed == 1 else "failed"
    if call.state in TERMINAL:
        return call.state
    if clock.now() >= call.expires_at:
        return "no-answer" if call.state == "placed" else "hung-up"
    return "pending"


# --- the IVR -------------------------------------------------------------------------------------------


def _fraud_code(call: PhoneCall) -> str | None:
    """The code that reports fraud on this call, when the user may report at all."""
    from ...directory.models import User

    user = db.session.get(User, call.user_id)
    fraud = mfa_settings.get(call.tenant_id, "fraudAlert")
    if fraud["allowUsersToSubmitFraudAlerts"]:
        return fraud["fraudCode"]
    if hooks.can_report_fraud(user):
        return str(mfa_settings.get(call.tenant_id, "reportSuspiciousActivity")["voiceReportingCode"])
    return None


def _move(call: PhoneCall, before: tuple, after: str) -> bool:
    moved = db.session.execute(
        update(PhoneCall).where(PhoneCall.id == call.id, PhoneCall.state.in_(before)).values(state=after)
    ).rowcount
    db.session.commit()
    return moved == 1


def _ended(call: PhoneCall, state: str, message_type: str) -> telephony.Prompt:
    _move(call, ("placed", "answered", "confirm-block"), state)
    said = prompt(call.tenant_id, message_type, call.language)
    said.gather, said.hangup = False, True
    return said


def _report(call: PhoneCall) -> telephony.Prompt:
    if not _move(call, ("answered", "confirm-block"), "fraud"):
        return _ended(call, "failed", "authenticationFailed")
    hooks.report_fraud(call.txn_id, call.user_id)
    said = prompt(call.tenant_id, "fraudReported", call.language)
    said.gather, said.hangup = False, True
    return said


def handle(call_id: str, event: str, keys: str) -> telephony.Prompt:
    call = db.session.get(PhoneCall, call_id)
    if call is None or call.state in TERMINAL or clock.now() >= call.expires_at:
        return telephony.Prompt("This call has ended. Goodbye.", gather=False, hangup=True)
    code = _fraud_code(call)
    if event == "answer":
        if not _move(call, ("placed",), "answered"):
            return _ended(call, "failed", "authenticationFailed")
        if code is None:
            return prompt(call.tenant_id, "authenticationGreeting", call.language)
        return prompt(call.tenant_id, "fraudGreeting", call.language, code=code)
    if event == "no-answer":
        return _ended(call, "no-answer", "authenticationFailed")
    if event == "hangup":
        return _ended(call, "hung-up", "authenticationFailed")
    if call.state == "answered":
        if keys == "#":
            return _ended(call, "verified", "authenticationSuccessful")
        if code is not None and keys == f"{code}#":
            if (
                mfa_settings.get(call.tenant_id, "fraudAlert")["blockUserWhenFraudReported"]
                and mfa_settings.get(call.tenant_id, "fraudAlert")["allowUsersToSubmitFraudAlerts"]
            ):
                _move(call, ("answered",), "confirm-block")
                return prompt(call.tenant_id, "fraudConfirmation", call.language)
            return _report(call)
    if call.state == "confirm-block" and keys.rstrip("#") == "1":
        return _report(call)
    return _ended(call, "failed", "authenticationFailed")
