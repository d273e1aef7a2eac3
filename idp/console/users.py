"""Users in the admin console: list, create, edit, disable, reset password, delete, groups and sessions.

Every change goes through the directory service and the Graph API's own role checks (graph.users.may_change
and friends), so the console can never do what the API would refuse; this module only turns forms into the
service's calls and its refusals into words next to the field."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from .. import clock, crypto, passwords
from ..directory import service as directory
from ..directory.models import Group, User
from ..extensions import db
from ..graph import password_methods as graph_password_methods
from ..kit.graph import audit
from ..signin import lockout
from ..signin import sessions as sso
from ..signin.models import SigninSession
from . import admin_required, bp, user_panels, user_sections
from .user_rules import (
    change_refusal,
    create_refusal,
    delete_refusal,
    field_error,
    groups_refusal,
    reset_refusal,
    sessions_refusal,
)
from ..kit.fields import Field
from .logs import method_label

USERS_PAGE = 50
SHOW_ONCE = "password_show_once"


def _profile_fields() -> dict[str, Field]:
    """The profile form's fields in Graph's property names (their labels follow the page's language)."""
    return {
        "displayName": Field(_("Display name"), "", "text"),
        "givenName": Field(_("First name"), "", "text"),
        "surname": Field(_("Last name"), "", "text"),
        "jobTitle": Field(_("Job title"), "", "text"),
        "department": Field(_("Department"), "", "text"),
    }


def _refuse_unless_allowed(reason: str | None) -> None:
    if reason:
        abort(403, description=reason)


def _require_confirmation() -> None:
    """A destructive action posts only from its question's second button (the form says confirm=yes)."""
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Confirm the action first."))


def _target(user_id: str) -> User:
    return directory.find_user(g.tenant, user_id) or abort(404, description=_("No such user in this tenant."))


# --- list and create -----------------------------------------------------------------------------------


@bp.get("/users")
@admin_required
def users():
    query = request.args.get("q", "").strip()[:100]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = select(User).where(User.tenant_id == g.tenant.id)
    if query:  # a prefix of the display name or of the user principal name, in any case
        prefix = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(User.upn.like(prefix, escape="\\"), func.lower(User.display_name).like(prefix, escape="\\"))
        )
    found = db.session.scalars(stmt.order_by(User.upn).offset((page - 1) * USERS_PAGE).limit(USERS_PAGE + 1)).all()
    return render_template(
        "console/users.html",
        users=found[:USERS_PAGE],
        query=query,
        page=page,
        more=len(found) > USERS_PAGE,
        create_refusal=create_refusal(),
    )


def _new_user_form() -> dict:
    form = request.form
    return {
        "displayName": form.get("displayName", "")[:300],
        "upnLocal": form.get("upnLocal", "").strip()[:120],
        "domain": form.get("domain", "")[:253],
        "password_choice": "manual" if form.get("password_choice") == "manual" else "generate",
        "password": form.get("password", "")[:300],
        "force_change": form.get("force_change") == "on",
        "accountEnabled": form.get("accountEnabled") == "on",
    }


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    refusal = create_refusal()
    values = {"displayName": "", "upnLocal": "", "domain": g.tenant.default_domain, "password_choice": "generate"}
    values |= {"password": "", "force_change": True, "accountEnabled": True}
    errors: dict[str, str] = {}
    if request.method == "POST":
        _refuse_unless_allowed(refusal)
        values = _new_user_form()
        password = values["password"] if values["password_choice"] == "manual" else passwords.generate()
        body = {
            "accountEnabled": values["accountEnabled"],
            "displayName": values["displayName"],
            "mailNickname": values["upnLocal"] or None,
            "userPrincipalName": f"{values['upnLocal']}@{values['domain']}",
            "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": values["force_change"]},
        }
        if not values["upnLocal"]:
            errors["userPrincipalName"] = _("Enter a user name.")
        else:
            try:
                user = directory.new_user(g.tenant, body)
            except directory.DirectoryError as error:
                db.session.rollback()
                name, message = field_error(error)
                errors["userPrincipalName" if name == "mailNickname" else name] = message
            else:
                audit("Add user", "User", user.id, after=directory.user_snapshot(user))
                db.session.commit()
                if values["password_choice"] == "generate":
                    _show_once(user, password)
                flash(_("User created."), "ok")
                return redirect(url_for("console.user_page", user_id=user.id), 303)
        values["password"] = ""  # a refused form never echoes a password back
    domains = sorted(d.name for d in g.tenant.domains)
    status = 400 if errors else 200
    return render_template(
        "console/user_new.html", values=values, errors=errors, domains=domains, refusal=refusal
    ), status


def _show_once(user: User, password: str) -> None:
    """Post/redirect/get: the password rides, sealed, to the one GET that shows it."""
    flask_session[SHOW_ONCE] = {"user": user.id, "password": crypto.seal(password.encode(), f"pw-shown:{user.id}")}


def _shown_password(user: User) -> str | None:
    pending = flask_session.get(SHOW_ONCE)
    if not pending or pending.get("user") != user.id:
        return None
    flask_session.pop(SHOW_ONCE)
    return crypto.unseal(pending["password"], f"pw-shown:{user.id}").decode()


# --- one user -----------------------------------------------------------------------------------------


@bp.get("/users/<user_id>")
@admin_required
def user_page(user_id):
    user = _target(user_id)
    return render_user(user)


def render_user(user: User, profile=None, profile_errors=None, status=200):
    panels = [p for panel in user_panels if (p := panel(g.caller, user))]
    sections = [s for section in user_sections if (s := section(g.caller, user))]
    member_of = directory.groups_of(user)
    joined = {group.id for group in member_of}
    other_groups = [
        group
        for group in db.session.scalars(
            select(Group).where(Group.tenant_id == g.tenant.id).order_by(Group.display_name).limit(500)
        )
        if group.id not in joined
    ]
    active = db.session.scalars(
        select(SigninSession)
        .where(SigninSession.user_id == user.id, SigninSession.revoked_at.is_(None))
        .order_by(SigninSession.created_at.desc())
        .limit(50)
    ).all()
    refusals = {
        "change": change_refusal(user),
        "delete": delete_refusal(user),
        "reset": reset_refusal(user),
        "sessions": sessions_refusal(user),
        "groups": groups_refusal(),
    }
    return render_template(
        "console/user.html",
        user=user,
        panels=panels,
        sections=sections,
        profile_fields=_profile_fields(),
        profile=profile or {name: getattr(user, directory.PROFILE[name][0]) or "" for name in _profile_fields()},
        profile_errors=profile_errors or {},
        member_of=member_of,
        other_groups=other_groups,
        sessions=[s for s in active if s.is_active()],
        lockout=lockout.state(user),
        refusals=refusals,
        new_password=_shown_password(user),
        now=clock.now(),
        method_label=method_label,
    ), status


@bp.post("/users/<user_id>/profile")
@admin_required
def edit_profile(user_id):
    user = _target(user_id)
    _refuse_unless_allowed(change_refusal(user))
    entered = {name: request.form.get(name, "")[:300] for name in _profile_fields()}
    body = {name: (value if value.strip() or name == "displayName" else None) for name, value in entered.items()}
    try:
        changes = directory.update_user(user, body)
    except directory.DirectoryError as error:
        db.session.rollback()
        name, message = field_error(error)
        return render_user(_target(user_id), profile=entered, profile_errors={name: message}, status=400)
    if changes:
        audit(
            "Update user",
            "User",
            user.id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
        )
    db.session.commit()
    flash(_("Profile saved."), "ok")
    return redirect(url_for("console.user_page", user_id=user.id), 303)


@bp.post("/users/<user_id>/account")
@admin_required
def set_account_enabled(user_id):
    """Block or allow sign-in (Graph's PATCH accountEnabled): blocking ends the user's sessions and tokens."""
    user = _target(user_id)
    _refuse_unless_allowed(change_refusal(user))
    enable = request.form.get("enabled") == "yes"
    if not enable:
        _require_confirmation()
    if not enable and user.id == g.sso.user.id:
        abort(403, description=_("You cannot block sign-in for your own account."))
    if directory.update_user(user, {"accountEnabled": enable}):
        audit("Update user", "User", user.id, before={"accountEnabled": not enable}, after={"accountEnabled": enable})
        audit("Enable account" if enable else "Disable account", "User", user.id)
    db.session.commit()
    flash(_("Sign-in allowed.") if enable else _("Sign-in blocked; the user's sessions have ended."), "ok")
    return redirect(url_for("console.user_page", user_id=user.id), 303)


@bp.post("/users/<user_id>/reset-password")
@admin_required
def reset_password(user_id):
    """A new temporary password, shown once; the user must change it at the next sign-in."""
    user = _target(user_id)
    _refuse_unless_allowed(reset_refusal(user))
    _require_confirmation()
    password = directory.reset_password(user, None)
    audit(graph_password_methods.ACTIVITY, "User", user.id, after={"passwordGenerated": True})
    db.session.commit()
    _show_once(user, password)
    flash(_("Password reset."), "ok")
    return redirect(url_for("console.user_page", user_id=user.id), 303)


@bp.post("/users/<user_id>/delete")
@admin_required
def delete_user(user_id):
    user = _target(user_id)
    _refuse_unless_allowed(delete_refusal(user))
    _require_confirmation()
    audit("Delete user", "User", user.id, before=directory.user_snapshot(user))
    name = user.upn
    directory.delete_user(user)
    db.session.commit()
    flash(_("%(name)s was deleted.", name=name), "ok")
    return redirect(url_for("console.users"), 303)


@bp.post("/users/<user_id>/groups")
@admin_required
def add_to_group(user_id):
    user = _target(user_id)
    _refuse_unless_allowed(groups_refusal())
    group = directory.find_group(g.tenant, request.form.get("group", "")[:256])
    if group is None:
        abort(400, description=_("Choose a group."))
    if not directory.is_member(group, user):
        directory.add_member(group, user)
        audit("Add member to group", "Group", group.id, after={"member": user.id, "userPrincipalName": user.upn})
        db.session.commit()
    flash(_("Added to %(group)s.", group=group.display_name), "ok")
    return redirect(url_for("console.user_page", user_id=user.id, _anchor="groups"), 303)


@bp.post("/users/<user_id>/groups/<group_id>/remove")
@admin_required
def remove_from_group(user_id, group_id):
    user = _target(user_id)
    _refuse_unless_allowed(groups_refusal())
    group = directory.find_group(g.tenant, group_id[:64]) or abort(404)
    if directory.remove_member(group, user):
        audit("Remove member from group", "Group", group.id, before={"member": user.id, "userPrincipalName": user.upn})
        db.session.commit()
    flash(_("Removed from %(group)s.", group=group.display_name), "ok")
    return redirect(url_for("console.user_page", user_id=user.id, _anchor="groups"), 303)


@bp.post("/users/<user_id>/sessions/revoke")
@admin_required
def revoke_sessions(user_id):
    """One session (`session` in the form) or, without it, every session and refresh token of the user."""
    user = _target(user_id)
    _refuse_unless_allowed(sessions_refusal(user))
    session_id = request.form.get("session", "")[:36]
    if session_id:
        sso.revoke_sessions(SigninSession.id == session_id, SigninSession.user_id == user.id)
        audit("Revoke sign-in session", "User", user.id, after={"session": session_id})
    else:
        _require_confirmation()
        directory.revoke_sign_in_sessions(user)
        audit("Revoke sign-in sessions", "User", user.id)
    db.session.commit()
    flash(_("Session ended.") if session_id else _("Every session of this user has ended."), "ok")
    return redirect(url_for("console.user_page", user_id=user.id, _anchor="sessions"), 303)


@bp.post("/users/<user_id>/unlock")
@admin_required
def unlock(user_id):
    """Clear the smart lockout's counters for the user's names (the same who may end their sessions)."""
    user = _target(user_id)
    _refuse_unless_allowed(sessions_refusal(user))
    lockout.unlock(user)
    audit("Unlock user sign-in (smart lockout)", "User", user.id)
    db.session.commit()
    flash(_("Sign-in unlocked."), "ok")
    return redirect(url_for("console.user_page", user_id=user.id, _anchor="lockout"), 303)
