"""The phone sign-in steps: a text message with a 6-digit code, and a voice call answered with #."""

from ...inputs import ascii_code
from ...methods.base import AuthMethod, MethodContext, Outcome, OutOfBandStep, Verification
from . import numbers, service, voice
from ...i18n.names import N_
from flask_babel import gettext
from ...audit import reasons

SMS_CODE_REFUSED = reasons.template(N_("invalid SMS code: %(detail)s"))


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


class VoiceStep(OutOfBandStep):
    name = "voice"
    label = "Call my phone"
    amr = ("tel", "mca")
    factors = ("voice",)
    second_factor = True
    template = "signin/voice.html"
    order = 36
    mfa_prompt = True
    verification_method = "call"
    challenge_key, restart_action, approved = "call_id", "call", "verified"
    waiting = Outcome(
        N_("We haven't received your verification yet. Answer the call and press #."), N_("voice call not answered yet")
    )
    failures = {  # whole sentences: the page translates them
        "no-answer": Outcome(
            N_("We called your phone but didn't get an answer. Call again or choose another method."),
            N_("voice call: no-answer"),
        ),
        "hung-up": Outcome(
            N_("The call ended before you pressed #. Call again or choose another method."),
            N_("voice call: hung-up"),
            mfa_denial=True,
        ),
        "failed": Outcome(
            N_("We couldn't verify you on the call. Call again or choose another method."),
            N_("voice call: failed"),
            mfa_denial=True,
        ),
        None: Outcome(
            N_("We couldn't verify you on the call. Call again or choose another method."), "voice call: {outcome}"
        ),
    }

    def is_available(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and bool(service.voice_phones(ctx.user))

    def is_live(self, challenge_id: str | None) -> bool:
        return voice.live_call(challenge_id) is not None

    def outcome(self, challenge_id: str | None) -> str | None:
        return voice.outcome(challenge_id)

    def begin(self, ctx: MethodContext) -> dict:
        """Opening the step calls the first phone, unless this sign-in's call is still going."""
        phones = service.voice_phones(ctx.user)
        view = {"phones": [(p.phone_type, numbers.masked(p.number)) for p in phones]}
        call = voice.live_call(ctx.data.get(self.challenge_key))
        if call is not None:
            return {**view, "calling": numbers.masked(call.number)}
        ok, message = self.start(ctx)
        return view if ok else {**view, "send_error": message}

    def start(self, ctx: MethodContext, form=None) -> tuple[bool, str]:
        """Call the phone the user chose (the first one when opening the step)."""
        phones = {p.phone_type: p for p in service.voice_phones(ctx.user)}
        phone = phones.get((form or {}).get("phone_type")) or next(iter(phones.values()))
        try:
            call = voice.place(ctx.user, phone, ctx.txn_id)
        except service.PhoneError as error:
            return False, error.message
        ctx.data[self.challenge_key] = call.id
        return True, gettext("We're calling %(number)s.", number=numbers.masked(phone.number))
