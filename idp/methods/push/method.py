"""The app-notification sign-in step: the page shows a two-digit number; the user picks it on the device."""

from ...methods.base import AuthMethod, MethodContext, Verification
from . import service
from ...i18n.names import N_


class PushStep(AuthMethod):
    name = "push"
    label = "Approve a request on my Microsoft Authenticator app"
    amr = ("swk",)
    factors = ("microsoftAuthenticatorPush",)
    second_factor = True
    template = "signin/push.html"
    order = 25
    mfa_prompt = True
    verification_method = "appNotification"

    def is_available(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and service.allowed(ctx.user) and bool(service.devices_of(ctx.user.id))

    def begin(self, ctx: MethodContext) -> dict:
        """Opening the step sends a notification, unless this sign-in's request is still waiting."""
        if service.live_request(ctx.data.get("request_id")) is None:
            self._send(ctx)
        return {}

    def _send(self, ctx: MethodContext) -> None:
        request = service.create_request(ctx.user, ctx.txn_id)
        ctx.data["request_id"], ctx.data["number"] = request.id, request.number

    def action(self, ctx: MethodContext, name: str, form) -> tuple[bool, str]:
        if name != "resend":
            return super().action(ctx, name, form)
        self._send(ctx)
        return True, N_("We sent a new request to your Authenticator app.")

    def verify(self, ctx: MethodContext, form) -> Verification:
        outcome = service.outcome(ctx.data.get("request_id"))
        if outcome == "approved":
            return Verification(True, factor="microsoftAuthenticatorPush")
        if outcome == "pending":
            return Verification(
                False,
                N_("We haven't received your approval yet. Open the app and enter the number shown."),
                N_("app notification not answered yet"),
            )
        messages = {
            "denied": (N_("You denied the request in the app."), N_("MFA denied; user declined the authentication")),
            "wrongNumber": (
                N_("The number you chose didn't match the number shown."),
                N_("MFA denied; wrong number chosen in the app"),
            ),
            "expired": (N_("The request timed out."), N_("app notification timed out")),
        }
        error, reason = messages.get(outcome, messages["expired"])
        return Verification(
            False,
            error + " Send a new request or choose another method.",
            reason,
            mfa_denial=outcome in ("denied", "wrongNumber"),
        )
