"""The OATH sign-in step: a code from an authenticator app or a hardware token, as the second factor."""

from ...inputs import ascii_code
from ...methods.base import AuthMethod, MethodContext, Verification
from . import service
from ...i18n.names import N_


class OathMethodStep(AuthMethod):
    name = "oath"
    label = "Verification code from an authenticator app or token"
    amr = ("otp",)
    factors = ("softwareOath", "hardwareOath")
    second_factor = True
    template = "signin/oath.html"
    order = 30
    mfa_prompt = True
    verification_method = "verificationCode"

    def is_available(self, ctx: MethodContext) -> bool:
        user = ctx.user
        if user is None:
            return False
        kinds = service.usable_kinds(user)
        return bool(kinds) and any(m.kind in kinds for m in service.methods_of(user.id, activated_only=True))

    def malformed(self, form) -> str | None:
        if ascii_code(form.get("otc"), lengths=(6,)) is None:
            return N_("Enter the 6-digit code (digits 0-9) shown in your authenticator app or on your token.")
        return None

    def is_registered(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and bool(service.methods_of(ctx.user.id, activated_only=True))

    def verify(self, ctx: MethodContext, form) -> Verification:
        code = ascii_code(form.get("otc"), lengths=(6,)) or ""
        used = service.verify(ctx.user, code, service.usable_kinds(ctx.user))
        if used is None:
            return Verification(
                False,
                N_("That code is not correct, or it was already used. Enter the current code."),
                N_("invalid OATH code"),
                mfa_denial=True,
            )
        return Verification(True, factor=f"{used.kind}Oath")
