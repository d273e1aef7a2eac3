"""Signing in as a guest with one's own account in another tenant of this server, then coming back."""

from flask import url_for

from ..directory import service as directory
from ..methods.base import AuthMethod, MethodContext, Verification
from ..methods.email_otp import service as email_otp
from ..signin import sessions
from flask_babel import gettext
from ..i18n.names import N_


class HomeAccountMethod(AuthMethod):
    name = "home_account"
    label = "Your own organization's account"
    amr = ("fed",)
    factors = ("federatedSingleFactor", "federatedMultiFactor")
    first_factor = True
    template = "signin/home_account.html"
    order = 35

    def is_available(self, ctx: MethodContext) -> bool:
        guest = ctx.user
        if guest is None or not guest.is_external_guest or email_otp.uses_email_otp(guest):
            return False
        return directory.home_account(guest) is not None

    def begin(self, ctx: MethodContext) -> dict:
        home = directory.home_account(ctx.user)
        back = url_for("signin.method_step", tenant=ctx.tenant_id, name=self.name)
        return {
            "home": home,
            "home_session": sessions.current(home.tenant),
            "home_signin": url_for("signin.start", tenant=home.tenant_id, return_to=back, login_hint=home.upn),
        }

    def verify(self, ctx: MethodContext, form) -> Verification:
        home = directory.home_account(ctx.user)
        session = sessions.current(home.tenant) if home else None
        if session is None or session.user_id != home.id:
            where = home.tenant.display_name if home else gettext("your organization")
            return Verification(
                False,
                gettext("Sign in to %(organization)s first.", organization=where),
                N_("home account not signed in"),
            )
        email_otp.redeem(ctx.user, "home_account")
        mfa = "mfa" in session.amr
        return Verification(
            True, extra_amr=("mfa",) if mfa else (), factor="federatedMultiFactor" if mfa else "federatedSingleFactor"
        )
