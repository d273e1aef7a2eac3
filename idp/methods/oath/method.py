"""The OATH sign-in step: a code from an authenticator app or a hardware token, as the second factor."""
from ... import methods
from ...methods.base import AuthMethod, MethodContext, Verification
from . import service


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

    def verify(self, ctx: MethodContext, form) -> Verification:
        code = (form.get("otc") or "").strip().replace(" ", "")
        used = service.verify(ctx.user, code, service.usable_kinds(ctx.user))
        if used is None:
            return Verification(False, "That code is not correct, or it was already used. Enter the current code.",
                                "invalid OATH code", mfa_denial=True)
        return Verification(True, factor=f"{used.kind}Oath")


methods.register(OathMethodStep())
