"""Groups as the Graph API and the console change them: creation (security groups only), their properties (a
display name unique in the tenant) and deletion. Look-ups and memberships are service.py's, with the users."""

from sqlalchemy import select

from ..extensions import db
from .models import Group, Tenant
from .service import NICKNAME, DirectoryError, _text


GROUP_PROPERTIES = {
    "displayName": ("display_name", 256),
    "description": ("description", 1024),
    "mailNickname": ("mail_nickname", 64),
    "preferredLanguage": ("preferred_language", 10),
}


def new_group(tenant: Tenant, body: dict) -> Group:
    """POST /groups: security groups (mailEnabled false, securityEnabled true)."""
    for name in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
        if body.get(name) is None:
            raise DirectoryError(f"Property '{name}' is required when creating the group.", target=name)
    if body["mailEnabled"] is not False or body["securityEnabled"] is not True or body.get("groupTypes"):
        raise DirectoryError(
            "Only security groups can be created here: mailEnabled false, securityEnabled true, no groupTypes.",
            target="groupTypes",
        )
    group = Group(tenant_id=tenant.id, display_name="")
    _apply_group(group, body)
    db.session.add(group)
    db.session.flush()
    return group


def _apply_group(group: Group, body: dict) -> None:
    for name, (column, limit) in GROUP_PROPERTIES.items():
        if name in body:
            value = _text(name, body[name], limit, required=name != "description")
            if name == "mailNickname" and not NICKNAME.fullmatch(value):
                raise DirectoryError("Property 'mailNickname' is invalid.", target=name)
            setattr(group, column, value)
    if group.display_name and db.session.scalar(
        select(Group.id).where(
            Group.tenant_id == group.tenant_id, Group.display_name == group.display_name, Group.id != group.id
        )
    ):
        # Entra allows duplicate names; this server names groups uniquely (the CLI and policies refer to them by name)
        raise DirectoryError(
            "Another group with the same displayName already exists.",
            target="displayName",
            detail_code="ObjectConflict",
            reason_id="directory.group_taken",
        )


def update_group(group: Group, body: dict) -> None:
    unknown = set(body) - set(GROUP_PROPERTIES) - {"@odata.type", "id"}
    if unknown:
        name = min(unknown)[:64]
        raise DirectoryError(f"Property '{name}' cannot be updated or does not exist on resource 'Group'.", target=name)
    _apply_group(group, body)
    db.session.flush()


def delete_group(group: Group) -> None:
    db.session.delete(group)
    db.session.flush()
