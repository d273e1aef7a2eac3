"""The phone sign-in steps: a text message with a 6-digit code, and a voice call answered with #."""

from ...inputs import ascii_code
from ...methods.base import AuthMethod, MethodContext, Verification
from . import numbers, service, voice
from ...i18n.names import N_
from flask_babel import gettext
from ...audit import reasons

SMS_CODE_REFUSED = reasons.template(N_("invalid SMS code: %(detail)s"))
VOICE_OUTCOMES = {  # the sign-in log's reasons
    "no-answer": N_("voice call: no-answer"),
    "hung-up": N_("voice call: hung-up"),
    "failed": N_("voice call: failed"),
}


class SmsStep(AuthMethod):
    name = "sms"
    label = "Text a code to my phone"
    amr = ("sms", "mca")
    factors = ("sms",)
    second_factor = True
    template = "signin/sms.html"
    order = 35
    mfa_prompt = True
    verification_method = "textMessage"

    def is_available(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and service.sms_phone(ctx.user) is not None

    def begin(self, ctx: MethodContext) -> dict:
        """Opening the step texts a code, unless one sent for this sign-in is still live."""
        phone = service.sms_phone(ctx.user)
        view = {}
        ctx.data["masked"] = numbers.masked(phone.number)
        if not (ctx.data.get("sent") and service.has_live_code(ctx.user, "signin")):
            view["send_error"] = self._send(ctx, phone)
        return view

    def _send(self, ctx: MethodContext, phone) -> str | None:
        try:
            service.send_code(ctx.user, "signin", phone.number, phone.phone_type)
        except service.PhoneError as error:
            return error.message
        ctx.data["sent"] = True
        return None

    def action(self, ctx: MethodContext, name: str, form) -> tuple[bool, str]:
        if name != "resend":
            return super().action(ctx, name, form)
        phone = service.sms_phone(ctx.user)
        problem = self._send(ctx, phone)
        return (
            (False, problem)
            if problem
            else (True, gettext("We texted a new code to %(number)s.", number=numbers.masked(phone.number)))
        )

    def malformed(self, form) -> str | None:
        if ascii_code(form.get("otc"), lengths=(6,)) is None:
            return N_("Enter the 6-digit code (digits 0-9) from the text message.")
        return None

    def verify(self, ctx: MethodContext, form) -> Verification:
        code = (form.get("otc") or "").strip().replace(" ", "")
        result = service.verify_code(ctx.user, "signin", code)
        if isinstance(result, str):
            return Verification(False, result, SMS_CODE_REFUSED % {"detail": result}, mfa_denial=True)
        service.touch(ctx.user, result.phone_type)
        return Verification(True, factor="sms")


class VoiceStep(AuthMethod):
    name = "voice"
    label = "Call my phone"
    amr = ("tel", "mca")
    factors = ("voice",)
    second_factor = True
    template = "signin/voice.html"
    order = 36
    mfa_prompt = True
    verification_method = "call"

    def is_available(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and bool(service.voice_phones(ctx.user))

    def begin(self, ctx: MethodContext) -> dict:
        """Opening the step calls the first phone, unless this sign-in's call is still going."""
        phones = service.voice_phones(ctx.user)
        call = voice.live_call(ctx.data.get("call_id"))
        view = {"phones": [(p.phone_type, numbers.masked(p.number)) for p in phones]}
        if call is None:
            view["send_error"] = self._call(ctx, phones[0])
        else:
            view["calling"] = numbers.masked(call.number)
        return view

    def _call(self, ctx: MethodContext, phone) -> str | None:
        try:
            call = voice.place(ctx.user, phone, ctx.txn_id)
        except service.PhoneError as error:
            return error.message
        ctx.data["call_id"] = call.id
        return None

    def action(self, ctx: MethodContext, name: str, form) -> tuple[bool, str]:
        if name != "call":
            return super().action(ctx, name, form)
        phones = {p.phone_type: p for p in service.voice_phones(ctx.user)}
        phone = phones.get(form.get("phone_type")) or next(iter(phones.values()))
        problem = self._call(ctx, phone)
        return (
            (False, problem)
            if problem
            else (True, gettext("We're calling %(number)s.", number=numbers.masked(phone.number)))
        )

    def verify(self, ctx: MethodContext, form) -> Verification:
        outcome = voice.outcome(ctx.data.get("call_id"))
        if outcome == "verified":
            return Verification(True, factor="voice")
        if outcome == "pending":
            return Verification(
                False,
                N_("We haven't received your verification yet. Answer the call and press #."),
                N_("voice call not answered yet"),
            )
        messages = {  # whole sentences: the page translates them
            "no-answer": N_("We called your phone but didn't get an answer. Call again or choose another method."),
            "hung-up": N_("The call ended before you pressed #. Call again or choose another method."),
            "failed": N_("We couldn't verify you on the call. Call again or choose another method."),
        }
        return Verification(
            False,
            messages.get(outcome, messages["failed"]),
            VOICE_OUTCOMES.get(outcome) or f"voice call: {outcome}",
            mfa_denial=outcome in ("hung-up", "failed"),
        )
