"""Who may manage whose authentication methods, the same for every method resource.

Privileged Authentication Administrators (and Global Administrators) manage the methods of admins and
members; Authentication Administrators those of members only; Global Readers read. Apps need the matching
application permission; delegated callers need the delegated permission as well as the role.
"""

from ..errors import ServiceError
from ..directory.models import Roles

READ_PERMISSIONS = ("UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All")
WRITE_PERMISSIONS = ("UserAuthenticationMethod.ReadWrite.All",)


OWN_ACCOUNT = (
    "This method cannot be managed for your own account here (whatever your role): "
    "use My Security Info, or ask an administrator."
)


class MethodAccessError(ServiceError):
    """The caller may not read or change this user's methods."""

    status = 403

    @property  # type: ignore[override]
    def code(self) -> str | None:
        return "accessDenied" if self.status == 403 else None  # the authentication-methods API's spelling


def authorize(caller, target, action: str, self_service: bool = False) -> str:
    """Allow or raise MethodAccessError. `action` is read, create or delete. `self_service` lets users
    manage their own methods of this kind (a TAP: no). Returns how the caller is allowed: app, self,
    privileged, admin (Authentication Administrator) or reader."""
    writing = action != "read"
    wanted = WRITE_PERMISSIONS if writing else READ_PERMISSIONS
    if caller.is_app:
        if caller.has_permission(*wanted):
            return "app"
        raise MethodAccessError("The application lacks the permission for this operation.")
    if caller.user.id == target.id:
        if not writing or self_service:
            return "self"
        raise MethodAccessError(OWN_ACCOUNT, reason_id="methods.own_account")
    if not caller.has_permission(*wanted):
        raise MethodAccessError(
            "The token does not carry the delegated permission for this operation.", reason_id="methods.no_permission"
        )
    roles = caller.roles
    if roles & Roles.PRIVILEGED_AUTH_ADMINS:
        return "privileged"
    if Roles.AUTH_ADMIN in roles and not target.is_admin:
        return "admin"
    if not writing and Roles.GLOBAL_READER in roles:
        return "reader"
    raise MethodAccessError(
        "Insufficient privileges to manage this user's authentication methods.", reason_id="methods.insufficient_role"
    )
