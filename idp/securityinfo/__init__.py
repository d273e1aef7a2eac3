"""My Security Info: the signed-in user's own methods. Each method slice contributes a panel, and its pages
through idp.kit.securityinfo (whose routes this blueprint takes)."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..audit import record_admin_change
from ..extensions import db
from ..kit.securityinfo import MethodEntry
from ..signin import preferences, sessions
from ..signin.guard import login_required

bp = Blueprint("securityinfo", __name__, url_prefix="/<tenant>/mysecurityinfo")


#: callables (user, session) -> list[MethodEntry]
panels: list = []
#: callables (user, session) -> list of dict(label, endpoint): the "add a method" actions
add_actions: list = []


def entries_for(user, session) -> list[MethodEntry]:
    found = []
    for panel in panels:
        found.extend(panel(user, session))
    return found


def password_entries(user, session):
    return [MethodEntry("password", _("Password"), _("Set by your organization"))] if user.password_hash else []


@bp.get("/")
@login_required
def index():
    user = g.sso.user
    entries = entries_for(user, g.sso)
    lasting = [e for e in entries if e.counts_as_method]
    only_tap = not lasting and any(e.kind == "tap" and e.usable for e in entries)
    no_way_back = not lasting and not only_tap  # e.g. signed in with a one-time pass that is now used
    actions = [item for action in add_actions for item in action(user, g.sso)]
    return render_template(
        "securityinfo/index.html",
        user=user,
        entries=entries,
        only_tap=only_tap,
        actions=actions,
        no_way_back=no_way_back,
        default_choices=preferences.candidates(user),
        default_method=preferences.default_method(user),
        signed_out_elsewhere=request.args.get("signed_out", type=int),
    )


@bp.post("/default-method")
@login_required
def set_default_method():
    """Change default sign-in method: the MFA step offers this one first."""
    user = g.sso.user
    before = user.preferred_mfa_method
    if not preferences.set_default(user, request.form.get("method", "")[:32]):
        flash(_("Choose one of your registered sign-in methods."), "error")
        return redirect(url_for("securityinfo.index"), 303)
    record_admin_change(
        "User changed default sign-in method",
        "user",
        user.id,
        before={"method": before},
        after={"method": user.preferred_mfa_method},
    )
    db.session.commit()
    flash(_("Default sign-in method changed."), "ok")
    return redirect(url_for("securityinfo.index"), 303)


@bp.route("/signout", methods=["GET", "POST"])
@login_required
def sign_out():
    """This browser only: the session (and the tokens issued from it) ends. A GET asks first."""
    if request.method == "GET":
        return render_template("securityinfo/sign_out.html")
    sessions.end_current(g.tenant)
    return render_template("signin/signed_out.html")


@bp.post("/forget-devices")
@login_required
def forget_devices():
    """Every device where this user chose "Don't ask again" asks for MFA again."""
    from ..mfa import remember

    remember.revoke(g.sso.user)
    record_admin_change("User forgot remembered MFA devices", "user", g.sso.user.id)
    db.session.commit()
    flash(_("Every device you told not to ask again will ask for verification at the next sign-in."), "ok")
    return redirect(url_for("securityinfo.index"), 303)


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """Every other session of this user ends (and with each, its refresh tokens); this browser stays."""
    from ..signin.models import SigninSession

    count = sessions.revoke_sessions(SigninSession.user_id == g.sso.user.id, SigninSession.id != g.sso.id)
    record_admin_change("User signed out of every other session", "user", g.sso.user.id, after={"sessions": count})
    db.session.commit()
    return redirect(url_for("securityinfo.index", signed_out=count), 303)
