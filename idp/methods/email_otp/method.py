"""The guest's email one-time passcode step: "Send code", then the 8-digit code."""
from ... import clock, methods
from ...directory.models import User
from ...extensions import db
from ...methods.base import AuthMethod, MethodContext, Verification
from . import service


class EmailOtpMethod(AuthMethod):
    name = "email_otp"
    label = "Email one-time passcode"
    amr = ("otp",)
    factors = ("email",)
    first_factor = True
    template = "signin/email_otp.html"
    order = 40
    mfa_prompt = True

    def is_available(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and service.uses_email_otp(ctx.user)

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
        return True, f"We sent a code to {ctx.user.mail}. It expires in 30 minutes."

    def verify(self, ctx: MethodContext, form) -> Verification:
        problem = service.refusal(ctx.user) or service.verify(ctx.user, (form.get("otc") or "").strip())
        if problem:
            return Verification(False, problem, problem, mfa_denial=True)
        service.redeem(ctx.user, "email_otp")
        return Verification(True, not_after=clock.now() + service.GUEST_SESSION, factor="email")


methods.register(EmailOtpMethod())
