"""The passkey sign-in step: phishing-resistant MFA on its own, or a second factor after a password.
Username-first (the user's credentials are allowed) or username-less (any discoverable credential)."""
import json

from ... import clock, methods
from ...methods.base import AuthMethod, MethodContext, Verification
from ...policy import service as policy
from . import ceremonies, service
from .policy import CONFIG

CHALLENGE_SECONDS = 300


class PasskeyMethod(AuthMethod):
    name = service.METHOD_NAME
    label = "Passkey or security key"
    amr = ("fido", "hwk")
    factors = ("fido2",)
    first_factor = True
    second_factor = True
    multi_factor = True  # with user verification, which every ceremony here requires
    phishing_resistant = True
    usernameless = True
    template = "signin/passkey.html"
    order = 5  # the strongest method is offered first
    mfa_prompt = True

    def is_available(self, ctx: MethodContext) -> bool:
        user = ctx.user
        return (user is not None and policy.applies_to(ctx.tenant_id, CONFIG.method_id, user)
                and bool(service.passkeys_of(user.id)))

    def offered_without_username(self, tenant_id: str) -> bool:
        return policy.get(tenant_id, CONFIG.method_id).enabled

    def _challenge(self, ctx: MethodContext) -> bytes:
        raw, challenge = ceremonies.new_challenge()
        ctx.data["challenge"], ctx.data["expires"] = challenge, clock.timestamp() + CHALLENGE_SECONDS
        return raw

    def begin(self, ctx: MethodContext) -> dict:
        allowed = [p.credential_id for p in service.passkeys_of(ctx.user.id)] if ctx.user else []
        return {"webauthn_options": ceremonies.authentication_options(allowed, self._challenge(ctx))}

    def verify(self, ctx: MethodContext, form) -> Verification:
        challenge = ctx.data.pop("challenge", None)  # one assertion per challenge, success or not
        if clock.timestamp() > ctx.data.pop("expires", 0):
            challenge = None
        try:
            credential = json.loads(form.get("credential") or "null")
            passkey = service.authenticate(ctx.tenant_id, ctx.user, credential, challenge)
        except ValueError as error:  # PasskeyError, or JSON that does not parse
            message = getattr(error, "message", "Sign-in with your passkey did not complete. Try again.")
            return Verification(False, message, getattr(error, "reason", "malformed passkey response"),
                                mfa_denial=ctx.user is not None)
        return Verification(True, factor="fido2", aaguid=passkey.aaguid, identified_user_id=passkey.user_id)


methods.register(PasskeyMethod())
