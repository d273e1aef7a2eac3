"""My Security Info: the signed-in user's own methods. Each method slice contributes a panel."""
from dataclasses import dataclass, field

from flask import Blueprint, g, render_template

from ..signin.sessions import login_required

bp = Blueprint("securityinfo", __name__, url_prefix="/<tenant>/mysecurityinfo")


@dataclass
class MethodEntry:
    kind: str  # icon / css class, e.g. "password", "tap", "software-oath", "hardware-oath"
    label: str
    detail: str = ""
    delete_endpoint: str | None = None  # POST endpoint (on this blueprint) that removes it
    delete_args: dict = field(default_factory=dict)
    counts_as_method: bool = True  # a TAP is listed, but is not a lasting sign-in method
    notice: str | None = None


#: callables (user, session) -> list[MethodEntry]
panels: list = []
#: callables (user, session) -> list of dict(label, endpoint): the "add a method" actions
add_actions: list = []


def entries_for(user, session) -> list[MethodEntry]:
    found = []
    for panel in panels:
        found.extend(panel(user, session))
    return found


def _password_panel(user, session):
    return [MethodEntry("password", "Password", "Set by your organization")] if user.password_hash else []


panels.append(_password_panel)


@bp.get("/")
@login_required
def index():
    user = g.sso.user
    entries = entries_for(user, g.sso)
    lasting = [e for e in entries if e.counts_as_method]
    only_tap = not lasting and any(e.kind == "tap" for e in entries)
    actions = [item for action in add_actions for item in action(user, g.sso)]
    return render_template("securityinfo/index.html", user=user, entries=entries, only_tap=only_tap, actions=actions)
