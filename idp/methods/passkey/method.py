"""The passkey sign-in step: phishing-resistant MFA on its own, or a second factor after a password.
Username-first (the user's credentials are allowed) or username-less (any discoverable credential)."""

from ... import clock
from ...inputs import JsonInputError, load_json
from ...methods.base import AuthMethod, MethodContext, Verification
from ...policy import service as policy
from . import ceremonies, service
from .policy import CONFIG
from ...i18n.names import N_

CHALLENGE_SECONDS = 300
MALFORMED = N_("The browser's passkey response could not be read. Try again.")


def parse_assertion(text) -> dict | None:
    """A WebAuthn assertion as the page posts it (PublicKeyCredential JSON), or None when it cannot be one."""
    if not isinstance(text, str) or not text or len(text) > 64 * 1024:
        return None
    try:
        credential = load_json(text, max_bytes=64 * 1024, max_depth=8)
    except JsonInputError:
        return None
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        return None
    response = credential["response"]
    fields = (
        credential.get("id"),
        credential.get("rawId"),
        response.get("clientDataJSON"),
        response.get("authenticatorData"),
        response.get("signature"),
    )
    return credential if all(isinstance(f, str) and f for f in fields) else None


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
        return (
            user is not None
            and policy.applies_to(ctx.tenant_id, CONFIG.method_id, user)
            and bool(service.passkeys_of(user.id))
        )

    def is_registered(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and bool(service.passkeys_of(ctx.user.id))

    def offered_without_username(self, tenant_id: str) -> bool:
        return policy.get(tenant_id, CONFIG.method_id).enabled

    def listed_for_anyone(self, tenant_id: str) -> bool:
        return self.offered_without_username(tenant_id)

    def _challenge(self, ctx: MethodContext) -> bytes:
        raw, challenge = ceremonies.new_challenge()
        ctx.data["challenge"], ctx.data["expires"] = challenge, clock.timestamp() + CHALLENGE_SECONDS
        return raw

    def begin(self, ctx: MethodContext) -> dict:
        allowed = [p.credential_id for p in service.passkeys_of(ctx.user.id)] if ctx.user else []
        return {"webauthn_options": ceremonies.authentication_options(allowed, self._challenge(ctx))}

    def malformed(self, form) -> str | None:
        return None if parse_assertion(form.get("credential")) is not None else MALFORMED

    def verify(self, ctx: MethodContext, form) -> Verification:
        challenge = ctx.data.pop("challenge", None)  # one assertion per challenge, success or not
        if clock.timestamp() > ctx.data.pop("expires", 0):
            challenge = None
        try:
            credential = parse_assertion(form.get("credential"))
            if credential is None:
                raise ValueError(MALFORMED)
            passkey = service.authenticate(ctx.tenant_id, ctx.user, credential, challenge)
        except ValueError as error:  # PasskeyError, or JSON that does not parse
            message = getattr(error, "message", N_("Sign-in with your passkey did not complete. Try again."))
            return Verification(
                False,
                message,
                getattr(error, "reason", N_("malformed passkey response")),
                mfa_denial=ctx.user is not None,
            )
        return Verification(True, factor="fido2", aaguid=passkey.aaguid, identified_user_id=passkey.user_id)
