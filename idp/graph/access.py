"""Who may call a directory operation, as Graph documents it: a delegated call needs one of the operation's
delegated permissions in `scp` and (where Entra asks for one) a directory role; an app-only call needs one of
its application permissions in `roles`. Errors in the directory's words."""

from ..directory.models import Roles
from ..kit.graph import GraphError, current_caller

DENIED = "Insufficient privileges to complete the operation."

#: default user permissions: any member (not a guest) may read the directory with a read permission
MEMBERS = None


def denied(message: str = DENIED) -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", message)


def not_found(ref: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref[:100]}' does not exist or one of its queried reference-property objects are not present.",
    )


def require(delegated: set[str], application: set[str], roles: set[str] | None = MEMBERS) -> None:
    """Refuse the call unless the caller holds one of the permissions (and, delegated, one of `roles`;
    `MEMBERS`: any member user, as Entra's default user permissions allow reads)."""
    caller = current_caller()
    if caller.is_app:
        if not caller.permissions & application:
            raise denied()
        return
    if not caller.scopes & delegated:
        raise denied()
    if roles is MEMBERS:
        if caller.user.user_type != "Member" and not caller.roles:
            raise denied()
    elif not caller.roles & roles:
        raise denied()


USER_READ = {
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
USER_READ_APP = {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
USER_WRITE = {"User.ReadWrite.All", "Directory.ReadWrite.All"}
USER_ADMINS = {Roles.GLOBAL_ADMIN, Roles.USER_ADMIN, Roles.PRIVILEGED_AUTH_ADMIN}
GROUP_READ = {
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
GROUP_WRITE = {"Group.ReadWrite.All", "Directory.ReadWrite.All"}
GROUP_CREATE = GROUP_WRITE | {"Group.Create"}
MEMBER_WRITE = GROUP_WRITE | {"GroupMember.ReadWrite.All"}
GROUP_ADMINS = {Roles.GLOBAL_ADMIN, Roles.GROUPS_ADMIN, Roles.USER_ADMIN}
APP_READ = {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
APP_WRITE = {"Application.ReadWrite.All", "Directory.ReadWrite.All"}
APP_ADMINS = {Roles.GLOBAL_ADMIN, Roles.APP_ADMIN, Roles.CLOUD_APP_ADMIN}
GRANT_WRITE = {"AppRoleAssignment.ReadWrite.All", "Directory.ReadWrite.All"}
CONSENT_WRITE = {"DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"}
GRANT_ADMINS = {Roles.GLOBAL_ADMIN, Roles.PRIVILEGED_ROLE_ADMIN, Roles.APP_ADMIN, Roles.CLOUD_APP_ADMIN}
LOG_READ = {"AuditLog.Read.All"}
LOG_READERS = {
    Roles.GLOBAL_ADMIN,
    Roles.GLOBAL_READER,
    Roles.SECURITY_ADMIN,
    Roles.SECURITY_READER,
    Roles.REPORTS_READER,
    Roles.CA_ADMIN,
}
ROLE_READ = {
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
ROLE_WRITE = {"RoleManagement.ReadWrite.Directory"}
ROLE_ADMINS = {Roles.GLOBAL_ADMIN, Roles.PRIVILEGED_ROLE_ADMIN}
