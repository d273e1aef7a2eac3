"""The admin console's kit: its route table and its guard, for the slices that add console pages (a method's
panel actions, MFA settings, branding) without importing the console shell. The console's blueprint
(idp.console.bp) takes `pages` when idp.wiring installs it, so their endpoints stay `console.<view>`."""

from functools import wraps

from flask import abort, g

from ..i18n.names import N_

from ..signin.guard import login_required
from .graph import Caller
from .routes import Routes

pages = Routes("console")
ALL_DELEGATED = {
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthenticationMethod.Read.All",
    "Policy.ReadWrite.AuthenticationMethod",
    "Policy.Read.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
}


def console_caller() -> Caller:
    """The signed-in administrator, as the services see callers (the console is a first-party app)."""
    return Caller(g.tenant, "console", user=g.sso.user, scopes=set(ALL_DELEGATED))


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(**kwargs):
        if not g.sso.user.is_admin:
            abort(403, description=N_("The admin console is for users with an administrator role."))
        g.caller = console_caller()
        return view(**kwargs)

    return wrapper
