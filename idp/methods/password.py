"""Password: the first factor of last resort."""

from .. import passwords
from ..extensions import db
from .base import AuthMethod, MethodContext, Verification
from ..i18n.names import N_


class PasswordMethod(AuthMethod):
    name = "password"
    label = "Password"
    factors = ("password",)
    amr = ("pwd",)
    first_factor = True
    template = "signin/password.html"
    order = 10

    def is_available(self, ctx: MethodContext) -> bool:
        # An unknown user is shown the password step too, so the page does not reveal who exists.
        return ctx.user is None or bool(ctx.user.password_hash)

    def listed_for_anyone(self, tenant_id: str) -> bool:
        return True

    def verify(self, ctx: MethodContext, form) -> Verification:
        password = form.get("password", "")
        user = ctx.user
        if not password or len(password) > 1024:
            return Verification(False, N_("Enter your password."), N_("empty or oversized password"))
        ok = passwords.verify_password(user.password_hash if user else None, password)
        if not ok:
            return Verification(False, N_("Your account or password is incorrect."), N_("invalid password"))
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
            db.session.flush()
        return Verification(True, factor="password")
