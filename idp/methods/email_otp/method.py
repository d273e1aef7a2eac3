"""The guest's email one-time passcode step: "Send code", then the 8-digit code."""

from ...inputs import ascii_code
from ... import clock
from ...directory.models import User
from ...extensions import db
from ...methods.base import AuthMethod, MethodContext, Verification
from . import service
from ...i18n.names import N_
from flask_babel import gettext


class EmailOtpMethod(AuthMethod):
    name = "email_otp"
    label = "Email one-time passcode"
    amr = ("otp",)
    factors = ("email",)
    first_factor = True
    template = "signin/email_otp.html"
    order = 40
    mfa_prompt = True

    def is_registered(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and service.uses_email_otp(ctx.user)

    def is_available(self, ctx: MethodContext) -> bool:
        """Offered only when it will be allowed: not to a guest whose organization turned it off."""
        return self.is_registered(ctx) and service.refusal(ctx.user) is None

    def unavailable_reason(self, ctx: MethodContext) -> str:
        return service.refusal(ctx.user) or super().unavailable_reason(ctx)

    def action(self, ctx: MethodContext, name: str, form) -> tuple[bool, str]:
        if name != "send":
            return super().action(ctx, name, form)
        problem = service.refusal(ctx.user)
        if problem:
            return False, problem
        inviter = db.session.get(User, ctx.user.invited_by) if ctx.user.invited_by else None
        try:
            service.send_code(ctx.user, inviter.display_name if inviter else None)
        except service.OtpError as error:
            return False, error.message
        ctx.data["sent"] = True
        return True, gettext("We sent a code to %(address)s. It expires in 30 minutes.", address=ctx.user.mail)

    def malformed(self, form) -> str | None:
        if ascii_code(form.get("otc"), lengths=(8,)) is None:
            return N_("Enter the 8-digit code (digits 0-9) from the email we sent you.")
        return None

    def verify(self, ctx: MethodContext, form) -> Verification:
        problem = service.refusal(ctx.user) or service.verify(ctx.user, (form.get("otc") or "").strip())
        if problem:
            return Verification(False, problem, problem, mfa_denial=True)
        service.redeem(ctx.user, "email_otp")
        return Verification(True, not_after=clock.now() + service.GUEST_SESSION, factor="email")
