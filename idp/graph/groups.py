"""Security groups, their members (`members/$ref` with a directoryObject's `@odata.id`), and
`/directoryObjects/{id}` over users, groups and service principals."""

from sqlalchemy import select

from .. import clock
from ..directory import groups as group_changes
from ..directory import service as directory
from ..directory.models import Group, GroupMember, User
from ..extensions import db
from . import access, odata
from ..kit.graph import audit, current_caller, odata_context, operation, read_json
from .users import COLLECTION, graph_user, referenced_user

GROUP_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "displayName": {"type": "string"}, "securityEnabled": {"type": "boolean"}},
}
GROUP_BODY = {
    "type": "object",
    "properties": {
        "displayName": {"type": "string"},
        "description": {"type": "string"},
        "mailNickname": {"type": "string"},
        "mailEnabled": {"type": "boolean"},
        "securityEnabled": {"type": "boolean"},
        "groupTypes": {"type": "array", "items": {"type": "string"}},
    },
}
REF_BODY = {"type": "object", "required": ["@odata.id"], "properties": {"@odata.id": {"type": "string"}}}

GROUPS = odata.Collection(
    "Group",
    {
        "id": odata.Prop(Group.id, "guid", {"eq", "in", "ne", "not"}),
        "displayName": odata.Prop(
            Group.display_name, operators={"eq", "in", "startswith", "ne", "not", "endswith"}, sortable=True
        ),
        "mailNickname": odata.Prop(Group.mail_nickname, operators={"eq", "in", "startswith", "ne", "not"}),
        "description": odata.Prop(Group.description, operators={"eq", "startswith", "ne", "not"}),
    },
    order=(Group.display_name, Group.id),
    searchable=("displayName", "description"),
)
MEMBERS = odata.Collection(
    "User",
    {
        "id": odata.Prop(User.id, "guid", {"eq", "in"}),
        "displayName": odata.Prop(User.display_name, operators={"eq", "in", "startswith"}, sortable=True),
        "userPrincipalName": odata.Prop(User.upn, operators={"eq", "in", "startswith"}, sortable=True, lower=True),
    },
    order=(User.upn, User.id),
    searchable=("displayName",),
)


def graph_group(group: Group) -> dict:
    return {
        "id": group.id,
        "displayName": group.display_name,
        "description": group.description,
        "mailNickname": group.mail_nickname,
        "mailEnabled": False,
        "securityEnabled": True,
        "groupTypes": [],
        "mail": None,
        "createdDateTime": clock.iso(group.created_at),
        "isAssignableToRole": None,
    }


def directory_group(ref: str) -> Group:
    group = db.session.get(Group, ref) if len(ref) <= 36 else None
    if group is None or group.tenant_id != current_caller().tenant.id:
        raise access.not_found(ref)
    return group


def _read() -> None:
    access.require(access.GROUP_READ, access.GROUP_READ)


def _write(permissions=access.GROUP_WRITE) -> None:
    access.require(permissions, permissions, access.GROUP_ADMINS)


def require_member_write() -> None:
    """Adding or removing members (the API and the console alike)."""
    _write(access.MEMBER_WRITE)


def require_group_write() -> None:
    """Renaming, describing or deleting a group (the API and the console alike)."""
    _write()


def require_group_create() -> None:
    _write(access.GROUP_CREATE)


@operation("/groups", ["GET"], summary="List groups", responses={"200": ("Groups", COLLECTION)})
def list_groups():
    _read()
    stmt = select(Group).where(Group.tenant_id == current_caller().tenant.id)
    return GROUPS.page(stmt, graph_group, odata_context("groups"))


@operation(
    "/groups",
    ["POST"],
    summary="Create a security group",
    body=GROUP_BODY,
    status=201,
    responses={"201": ("Created", GROUP_SCHEMA)},
)
def create_group():
    require_group_create()
    group = group_changes.new_group(current_caller().tenant, read_json())
    audit("Add group", "Group", group.id, after=graph_group(group))
    db.session.commit()
    return {"@odata.context": odata_context("groups/$entity"), **graph_group(group)}, 201


@operation("/groups/{group_id}", ["GET"], summary="Get a group", responses={"200": ("Group", GROUP_SCHEMA)})
def get_group(group_id):
    _read()
    return {"@odata.context": odata_context("groups/$entity"), **graph_group(directory_group(group_id))}


@operation(
    "/groups/{group_id}",
    ["PATCH"],
    summary="Update a group",
    body=GROUP_BODY,
    status=204,
    responses={"204": ("Updated", None)},
)
def update_group(group_id):
    require_group_write()
    group = directory_group(group_id)
    before = graph_group(group)
    group_changes.update_group(group, read_json())
    audit("Update group", "Group", group.id, before=before, after=graph_group(group))
    db.session.commit()
    return "", 204


@operation("/groups/{group_id}", ["DELETE"], summary="Delete a group", status=204, responses={"204": ("Deleted", None)})
def delete_group(group_id):
    require_group_write()
    group = directory_group(group_id)
    audit("Delete group", "Group", group.id, before=graph_group(group))
    group_changes.delete_group(group)
    db.session.commit()
    return "", 204


@operation(
    "/groups/{group_id}/members", ["GET"], summary="List a group's members", responses={"200": ("Members", COLLECTION)}
)
def list_members(group_id):
    _read()
    group = directory_group(group_id)
    stmt = select(User).join(GroupMember, GroupMember.user_id == User.id).where(GroupMember.group_id == group.id)
    return MEMBERS.page(
        stmt, lambda u: {"@odata.type": "#microsoft.graph.user", **graph_user(u)}, odata_context("directoryObjects")
    )


@operation(
    "/groups/{group_id}/members/$ref",
    ["POST"],
    summary="Add a member (@odata.id of a directoryObject)",
    body=REF_BODY,
    status=204,
    responses={"204": ("Added", None)},
)
def add_member(group_id):
    require_member_write()
    group = directory_group(group_id)
    user = referenced_user(read_json().get("@odata.id"))
    if directory.is_member(group, user):
        raise odata.bad_request(
            "One or more added object references already exist for the following modified properties: 'members'."
        )
    directory.add_member(group, user)
    audit("Add member to group", "Group", group.id, after={"member": user.id, "userPrincipalName": user.upn})
    db.session.commit()
    return "", 204


@operation(
    "/groups/{group_id}/members/{member_id}/$ref",
    ["DELETE"],
    summary="Remove a member",
    status=204,
    responses={"204": ("Removed", None)},
)
def remove_member(group_id, member_id):
    require_member_write()
    group = directory_group(group_id)
    user = db.session.get(User, member_id) if len(member_id) <= 36 else None
    if user is None or user.tenant_id != group.tenant_id or not directory.remove_member(group, user):
        raise access.not_found(member_id)
    audit("Remove member from group", "Group", group.id, before={"member": user.id, "userPrincipalName": user.upn})
    db.session.commit()
    return "", 204
