"""Who may do what on the console's Users pages, with the reason in words: the Graph API's own checks
(graph.users.may_change and friends) asked, never restated; and the directory service's refusals in the
page's language, beside their field."""

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..directory import service as directory
from ..directory.models import Roles, User
from ..graph import groups as graph_groups
from ..graph import password_methods as graph_password_methods
from ..graph import users as graph_users
from ..errors import ServiceError
from ..ui import refusal_text, say

# --- who may do what: the API's checks, with the reason in words --------------------------------------


def _admin_target_reason() -> str:
    return _(
        "This user holds an administrator role: only a Global Administrator or a Privileged Authentication "
        "Administrator may change them."
    )


def change_refusal(user: User) -> str | None:
    try:
        graph_users.may_change(user)
    except ServiceError:  # any refusal of the rule (the Graph check or the service behind it)
        if user.roles and g.caller.roles & {Roles.USER_ADMIN}:
            return _admin_target_reason()
        return _("Your role cannot change users: that takes a User Administrator or a Global Administrator.")
    return None


def create_refusal() -> str | None:
    try:
        graph_users.require_user_write()
    except ServiceError:  # any refusal of the rule (the Graph check or the service behind it)
        return _("Your role cannot create users: that takes a User Administrator or a Global Administrator.")
    return None


def delete_refusal(user: User) -> str | None:
    if user.id == g.sso.user.id:
        return _("You cannot delete your own account.")
    return change_refusal(user) or _checked(graph_users.may_delete, user, _("You cannot delete this user."))


def reset_refusal(user: User) -> str | None:
    """Graph's resetPassword rule: authentication administrators, and User Administrators for non-admins."""
    if user.user_type == "Guest":
        return _("Guests sign in with their own account: they have no password here.")
    if user.id == g.sso.user.id:
        return _("Change your own password in My Security Info.")
    try:
        graph_password_methods.may_reset(user)
    except ServiceError:  # any refusal of the rule (the Graph check or the service behind it)
        return _admin_target_reason() if user.roles else _("Your role cannot reset passwords.")
    return None


def sessions_refusal(user: User) -> str | None:
    try:
        graph_users.may_revoke_sessions(user)
    except ServiceError:  # any refusal of the rule (the Graph check or the service behind it)
        if user.roles:
            return _admin_target_reason()
        return _("Your role cannot end other users' sessions.")
    return None


def groups_refusal() -> str | None:
    try:
        graph_groups.require_member_write()
    except ServiceError:  # any refusal of the rule (the Graph check or the service behind it)
        return _("Changing group members takes a Groups Administrator, a User Administrator or a Global Administrator.")
    return None


def _checked(check, user, reason: str) -> str | None:
    try:
        check(user)
    except ServiceError:  # any refusal of the rule (the Graph check or the service behind it)
        return reason
    return None


# --- the service's refusals, in the page's language, beside their field --------------------------------

say(
    {
        "directory.required": _l("Enter a value."),
        "directory.control": _l("Remove the line breaks and control characters from this value."),
        "directory.mail": _l("Enter an email address, such as name@example.com."),
        "directory.usage_location": _l("Enter a two-letter country code, such as JP or US."),
        "directory.language": _l("Enter a language tag, such as ja-JP or en-US."),
        "directory.group_taken": _l("Another group already has this name. Choose a different name."),
    }
)


def field_error(error: directory.DirectoryError) -> tuple[str, str]:
    """(form field, message) for a refused change: the target property and the reason in the page's words."""
    target = error.target or ""
    if error.detail_code == "ObjectConflict" and target == "userPrincipalName":
        return target, _("Another user already has this user principal name.")
    if error.reason_id == "directory.domain":
        return target, _("Use one of this organization's verified domains.")
    if target == "userPrincipalName":
        return target, _("Use letters, digits and . - _ before the @ (no dot at the start or end).")
    if target == "passwordProfile":
        return target, _(
            "The password must be 8 to 256 characters long and use three of: lower case, upper case, digits, symbols."
        )
    if error.reason_id == "directory.too_long":
        return target, _("This is too long: at most %(limit)s characters.", limit=error.values["limit"])
    if target in ("displayName", "mailNickname") and error.reason_id != "directory.control":
        return target, _("Enter a name.")
    return target, refusal_text(error)
