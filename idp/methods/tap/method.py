"""The TAP sign-in step: a strong credential, so it is the first factor and MFA at once."""

from ...methods.base import AuthMethod, MethodContext, Verification
from . import service


class TemporaryAccessPassMethod(AuthMethod):
    name = service.METHOD_NAME
    label = "Temporary Access Pass"
    amr = ("tap",)
    factors = ("temporaryAccessPassOneTime", "temporaryAccessPassMultiUse")
    first_factor = True
    multi_factor = True
    template = "signin/tap.html"
    order = 3  # a holder is asked for the pass first, as in Entra: it was issued because it is needed
    user_relationships = ("live_temporary_access_pass",)

    def step_loaded(self, user) -> None:
        """Each step asks for the live pass: it came with the step's transaction (no query of its own)."""
        if "live_temporary_access_pass" not in user.__dict__:
            return
        tap = user.__dict__["live_temporary_access_pass"]
        if tap is None or tap.deleted_at is None:  # loaded earlier in a request that has deleted it since: ask
            service.remember_live_pass(user.id, tap)

    def is_available(self, ctx: MethodContext) -> bool:
        """Offered only while the user's pass can sign in (the rule Graph's isUsable reports)."""
        return ctx.user is not None and service.usable_pass(ctx.user) is not None

    def listed_for_anyone(self, tenant_id: str) -> bool:
        """Never: a holder is asked for the pass first (its own step), and listing it for everyone else would
        offer a dead pass. Unknown names and names without a pass see the same list either way."""
        return False

    def verify(self, ctx: MethodContext, form) -> Verification:
        outcome = service.sign_in(ctx.user, form.get("tap", "").strip())
        if not outcome.ok:
            return Verification(False, outcome.message, outcome.message)
        kind = "OneTime" if outcome.tap.is_usable_once else "MultiUse"
        return Verification(
            True, not_after=outcome.tap.ends_at, credential_ref=outcome.tap.id, factor=f"temporaryAccessPass{kind}"
        )
