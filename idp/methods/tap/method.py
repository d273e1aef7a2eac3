"""The TAP sign-in step: a strong credential, so it is the first factor and MFA at once."""
from ... import methods
from ...oidc.claims import refresh_rules
from ...methods.base import AuthMethod, MethodContext, Verification
from ...policy import service as policy
from . import service
from .policy import CONFIG


class TemporaryAccessPassMethod(AuthMethod):
    name = service.METHOD_NAME
    label = "Temporary Access Pass"
    amr = ("tap",)
    factors = ("temporaryAccessPassOneTime", "temporaryAccessPassMultiUse")
    first_factor = True
    multi_factor = True
    template = "signin/tap.html"
    order = 20  # after the password; the default step for a user whose only method is the pass

    def is_available(self, ctx: MethodContext) -> bool:
        """Offered to a user in the policy's scope who holds a pass (an unusable one too: its step says why)."""
        user = ctx.user
        return (user is not None and service.latest_pass(user.id) is not None
                and policy.applies_to(ctx.tenant_id, CONFIG.method_id, user))

    def verify(self, ctx: MethodContext, form) -> Verification:
        outcome = service.sign_in(ctx.user, form.get("tap", "").strip())
        if not outcome.ok:
            return Verification(False, outcome.message, outcome.message)
        kind = "OneTime" if outcome.tap.is_usable_once else "MultiUse"
        return Verification(True, not_after=outcome.tap.ends_at, credential_ref=outcome.tap.id,
                            factor=f"temporaryAccessPass{kind}")


methods.register(TemporaryAccessPassMethod())
refresh_rules.append(service.refresh_rule)
