"""The app-notification sign-in step: the page shows a two-digit number; the user picks it on the device."""

from ...i18n.names import N_
from ...methods.base import MethodContext, Outcome, OutOfBandStep
from . import service


class PushStep(OutOfBandStep):
    name = "push"
    label = "Approve a request on my Microsoft Authenticator app"
    amr = ("swk",)
    factors = ("microsoftAuthenticatorPush",)
    second_factor = True
    template = "signin/push.html"
    order = 25
    mfa_prompt = True
    verification_method = "appNotification"
    challenge_key, restart_action, approved = "request_id", "resend", "approved"
    waiting = Outcome(
        N_("We haven't received your approval yet. Open the app and enter the number shown."),
        N_("app notification not answered yet"),
    )
    failures = {  # whole sentences: the page translates them
        "denied": Outcome(
            N_("You denied the request in the app. Send a new request or choose another method."),
            N_("MFA denied; user declined the authentication"),
            mfa_denial=True,
        ),
        "wrongNumber": Outcome(
            N_("The number you chose didn't match the number shown. Send a new request or choose another method."),
            N_("MFA denied; wrong number chosen in the app"),
            mfa_denial=True,
        ),
        None: Outcome(
            N_("The request timed out. Send a new request or choose another method."), N_("app notification timed out")
        ),
    }

    def is_available(self, ctx: MethodContext) -> bool:
        return ctx.user is not None and service.allowed(ctx.user) and bool(service.devices_of(ctx.user.id))

    def is_live(self, challenge_id: str | None) -> bool:
        return service.live_request(challenge_id) is not None

    def outcome(self, challenge_id: str | None) -> str | None:
        return service.outcome(challenge_id)

    def start(self, ctx: MethodContext, form=None) -> tuple[bool, str]:
        request = service.create_request(ctx.user, ctx.txn_id)
        ctx.data[self.challenge_key], ctx.data["number"] = request.id, request.number
        return True, N_("We sent a new request to your Authenticator app.")
