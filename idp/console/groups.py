"""The console's Groups: list with search and paging, create a security group, rename or describe it, its
members (add by user principal name or a name search, remove) and deletion. Changes go through the directory
service after the Graph API's own role checks (graph.groups.require_*), so the console refuses what the API
would."""

import re
import secrets

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..audit import record_admin_change
from ..directory import groups as group_changes
from ..directory import service as directory
from ..directory.models import Group, GroupMember, User
from ..extensions import db
from ..graph import groups as graph_groups
from ..errors import ServiceError
from . import admin_required, bp
from ..kit.fields import Field, field_error

GROUPS_PAGE = 50
MEMBERS_SHOWN = 500
MATCHES_SHOWN = 10
FIELDS = {
    "displayName": Field(_l("Name"), _l("How the group appears in the console and in policies."), "text"),
    "description": Field(_l("Description"), _l("Optional: what the group is for."), "text"),
}
ERRORS = {
    "displayName": _l("Enter a name of at most 256 characters that no other group has."),
    "description": _l("Enter a description of at most 1,024 characters on one line."),
}
READ_ONLY = _l(
    "You can view groups. Only a Groups Administrator, a User Administrator or a Global Administrator can change them."
)


def _may(check) -> bool:
    try:
        check()
    except ServiceError:
        return False
    return True


def _require(check) -> None:
    if not _may(check):
        abort(403, description=str(READ_ONLY))


def _group(group_id: str) -> Group:
    group = db.session.get(Group, group_id[:36])
    if group is None or group.tenant_id != g.tenant.id:
        abort(404, description=_("No such group in this tenant."))
    return group


def _confirmed() -> None:
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Confirm the action first."))


def _prefix(text: str) -> str:
    """A LIKE pattern for names that start with `text` (its wildcards escaped)."""
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- list and create -----------------------------------------------------------------------------------


@bp.get("/groups")
@admin_required
def group_list():
    query = request.args.get("q", "").strip()[:100]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = select(Group).where(Group.tenant_id == g.tenant.id)
    if query:
        stmt = stmt.where(func.lower(Group.display_name).like(_prefix(query), escape="\\"))
    stmt = stmt.order_by(Group.display_name, Group.id).offset((page - 1) * GROUPS_PAGE).limit(GROUPS_PAGE + 1)
    found = db.session.scalars(stmt).all()
    shown = found[:GROUPS_PAGE]
    return render_template(
        "console/groups.html",
        groups=shown,
        member_counts=_member_counts([group.id for group in shown]),
        query=query,
        page=page,
        more=len(found) > GROUPS_PAGE,
        may_create=_may(graph_groups.require_group_create),
        read_only=READ_ONLY,
    )


def _member_counts(group_ids: list[str]) -> dict[str, int]:
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(GroupMember.group_id, func.count())
        .where(GroupMember.group_id.in_(group_ids))
        .group_by(GroupMember.group_id)
    )
    return {group_id: count for group_id, count in rows}


def _entered() -> dict:
    return {
        "displayName": request.form.get("displayName", "")[:300],
        "description": request.form.get("description", "")[:1100],
    }


def _nickname(display_name: str) -> str:
    """Graph requires a mailNickname: the name's letters and digits, else a random one."""
    letters = re.sub(r"[^A-Za-z0-9]", "", display_name)[:40]
    return letters or f"group-{secrets.token_hex(4)}"


def _refused(error: directory.DirectoryError) -> dict:
    db.session.rollback()
    field = error.target if error.target in ERRORS else "displayName"
    return {field: field_error(ERRORS[field], error)}


@bp.route("/groups/new", methods=["GET", "POST"])
@admin_required
def new_group():
    may_create = _may(graph_groups.require_group_create)
    values, errors = {"displayName": "", "description": ""}, {}
    if request.method == "POST":
        _require(graph_groups.require_group_create)
        values = _entered()
        body = {
            "displayName": values["displayName"],
            "description": values["description"].strip() or None,
            "mailNickname": _nickname(values["displayName"]),
            "mailEnabled": False,
            "securityEnabled": True,
        }
        try:
            group = group_changes.new_group(g.tenant, body)
        except directory.DirectoryError as error:
            errors = _refused(error)
        else:
            record_admin_change("Add group", "Group", group.id, after=graph_groups.graph_group(group))
            db.session.commit()
            flash(_("Group %(name)s created.", name=group.display_name), "ok")
            return redirect(url_for("console.group_page", group_id=group.id), 303)
    return render_template(
        "console/group_new.html", values=values, errors=errors, fields=FIELDS, may_edit=may_create, read_only=READ_ONLY
    ), (400 if errors else 200)


# --- one group -----------------------------------------------------------------------------------------


def _members(group: Group) -> list[User]:
    stmt = (
        select(User)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
        .order_by(User.upn)
        .limit(MEMBERS_SHOWN)
    )
    return list(db.session.scalars(stmt))


def _candidates(group: Group, text: str) -> list[User]:
    """Users not yet in the group whose user principal name or display name starts with `text`."""
    if not text:
        return []
    pattern = _prefix(text)
    members = select(GroupMember.user_id).where(GroupMember.group_id == group.id)
    stmt = (
        select(User)
        .where(User.tenant_id == g.tenant.id, User.id.not_in(members))
        .where(or_(User.upn.like(pattern, escape="\\"), func.lower(User.display_name).like(pattern, escape="\\")))
        .order_by(User.upn)
        .limit(MATCHES_SHOWN)
    )
    return list(db.session.scalars(stmt))


def _page(group: Group, values: dict | None = None, errors: dict | None = None, status: int = 200):
    find = request.args.get("find", "").strip()[:100]
    return render_template(
        "console/group.html",
        group=group,
        values=values or {"displayName": group.display_name, "description": group.description or ""},
        errors=errors or {},
        fields=FIELDS,
        members=_members(group),
        find=find,
        candidates=_candidates(group, find),
        may_edit=_may(graph_groups.require_group_write),
        may_change_members=_may(graph_groups.require_member_write),
        read_only=READ_ONLY,
    ), status


@bp.get("/groups/<group_id>")
@admin_required
def group_page(group_id):
    return _page(_group(group_id))


@bp.post("/groups/<group_id>")
@admin_required
def edit_group(group_id):
    group = _group(group_id)
    _require(graph_groups.require_group_write)
    values = _entered()
    before = graph_groups.graph_group(group)
    body = {"displayName": values["displayName"], "description": values["description"].strip() or None}
    try:
        group_changes.update_group(group, body)
    except directory.DirectoryError as error:
        errors = _refused(error)
        return _page(_group(group_id), values, errors, 400)
    after = graph_groups.graph_group(group)
    if after != before:
        record_admin_change("Update group", "Group", group.id, before=before, after=after)
    db.session.commit()
    flash(_("Saved."), "ok")
    return redirect(url_for("console.group_page", group_id=group.id), 303)


@bp.post("/groups/<group_id>/delete")
@admin_required
def delete_group(group_id):
    group = _group(group_id)
    _require(graph_groups.require_group_write)
    _confirmed()
    name = group.display_name
    record_admin_change("Delete group", "Group", group.id, before=graph_groups.graph_group(group))
    group_changes.delete_group(group)
    db.session.commit()
    flash(_("Group %(name)s deleted.", name=name), "ok")
    return redirect(url_for("console.group_list"), 303)


@bp.post("/groups/<group_id>/members")
@admin_required
def add_group_member(group_id):
    """Add the user the form names: a user principal name typed in, or a search result's button."""
    group = _group(group_id)
    _require(graph_groups.require_member_write)
    named = request.form.get("member", "").strip()[:256]
    user = directory.find_user(g.tenant, named) if named else None
    if user is None:
        flash(_("No user %(name)s in this tenant: search by the start of a name instead.", name=named), "error")
        return redirect(url_for("console.group_page", group_id=group.id, find=named, _anchor="members"), 303)
    if not directory.is_member(group, user):
        directory.add_member(group, user)
        record_admin_change(
            "Add member to group", "Group", group.id, after={"member": user.id, "userPrincipalName": user.upn}
        )
        db.session.commit()
    flash(_("%(user)s added to the group.", user=user.upn), "ok")
    return redirect(url_for("console.group_page", group_id=group.id, _anchor="members"), 303)


@bp.post("/groups/<group_id>/members/<user_id>/remove")
@admin_required
def remove_group_member(group_id, user_id):
    group = _group(group_id)
    _require(graph_groups.require_member_write)
    _confirmed()
    user = directory.find_user(g.tenant, user_id[:36]) or abort(404, description=_("No such user in this tenant."))
    if directory.remove_member(group, user):
        record_admin_change(
            "Remove member from group", "Group", group.id, before={"member": user.id, "userPrincipalName": user.upn}
        )
        db.session.commit()
    flash(_("%(user)s removed from the group.", user=user.upn), "ok")
    return redirect(url_for("console.group_page", group_id=group.id, _anchor="members"), 303)
