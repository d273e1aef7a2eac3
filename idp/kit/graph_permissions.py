"""Graph's permission model, as one table: which delegated (`scp`) and application (`roles`) permissions
grant each operation. The names are Graph's own (each operation's "Permissions" table in Microsoft's
documentation); operations that Graph does not have (the MFA settings) use the permission of the nearest
resource. The OpenAPI document shows each operation's row (`x-permissions`), and a test walks them all.

A row is chosen by the longest path prefix, then by read (GET) or write (any other method). Delegated
access is the intersection of the token's `scp` and the signed-in user's directory role: the table checks
the first, the operation's handler the second. A path no row covers is refused to everyone (fail closed).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Permissions:
    """Graph's permission table of one operation: any one of `delegated` (the token's `scp`) or of
    `application` (an app-only token's `roles`) grants it. `delegated_self` is enough when the `{user_ref}`
    of the path is the signed-in user. The caller's directory role is checked by the handler (delegated
    access is the intersection of both)."""

    delegated: tuple[str, ...] = ()
    application: tuple[str, ...] = ()
    delegated_self: tuple[str, ...] = ()
    any_token: bool = False  # an envelope ($batch) whose contents are checked one by one
    #: an app-only token without `application` passes here too: the handler lets it act on itself only
    #: (Graph: an application needs no permission to roll its own keys)
    application_self: bool = False

    def document(self) -> dict:
        if self.any_token:
            return {"anyValidToken": True}
        return {
            "delegated": list(self.delegated),
            "delegatedForSelf": list(self.delegated_self),
            "application": list(self.application),
            **({"applicationForItself": True} if self.application_self else {}),
        }


AUTH_METHODS_READ = ("UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All")
AUTH_METHODS_WRITE = ("UserAuthenticationMethod.ReadWrite.All",)
POLICY_READ = ("Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod")
POLICY_WRITE = ("Policy.ReadWrite.AuthenticationMethod",)
USERS_READ = (
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
USERS_READ_APP = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
USERS_WRITE = ("User.ReadWrite.All", "Directory.ReadWrite.All")
SELF_READ = ("User.Read", "User.ReadWrite", "User.ReadBasic.All")
GROUPS_READ = (
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
APPS_READ = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
APPS_WRITE = ("Application.ReadWrite.All", "Directory.ReadWrite.All")
ROLES_READ = (
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)


def _same(*names: str, self_names: tuple[str, ...] = ()) -> Permissions:
    """The same permissions delegated and application (most of Graph's admin resources)."""
    return Permissions(delegated=names, application=names, delegated_self=self_names)


#: path prefix -> (read row, write row)
TABLE: dict[str, tuple[Permissions, Permissions]] = {
    # the directory (users, groups, roles): the handlers refine these rows with idp/graph/access.py's roles
    "/users": (Permissions(delegated=USERS_READ, application=USERS_READ_APP), _same(*USERS_WRITE)),
    "/users/{user_ref}": (
        Permissions(delegated=USERS_READ, application=USERS_READ_APP, delegated_self=SELF_READ),
        _same(*USERS_WRITE),
    ),
    "/users/{user_ref}/revokeSignInSessions": (
        Permissions(),
        _same(*USERS_WRITE, "User.RevokeSessions.All", self_names=("User.ReadWrite", "User.RevokeSessions.All")),
    ),
    "/users/{user_ref}/memberOf": (
        Permissions(
            delegated=USERS_READ + GROUPS_READ, application=USERS_READ_APP + GROUPS_READ, delegated_self=SELF_READ
        ),
        Permissions(),
    ),
    "/groups": (_same(*GROUPS_READ), _same(*GROUPS_READ[2:], "Group.Create", "GroupMember.ReadWrite.All")),
    "/directoryObjects": (
        Permissions(
            delegated=USERS_READ + GROUPS_READ + APPS_READ, application=USERS_READ_APP + GROUPS_READ + APPS_READ
        ),
        Permissions(),
    ),
    "/applications": (_same(*APPS_READ), _same(*APPS_WRITE)),
    # an application rolls its own certificates without any permission (idp/graph/app_keys.py checks it is itself)
    "/applications/{app_object_id}/addKey": (
        Permissions(),
        Permissions(delegated=APPS_WRITE, application=APPS_WRITE, application_self=True),
    ),
    "/applications/{app_object_id}/removeKey": (
        Permissions(),
        Permissions(delegated=APPS_WRITE, application=APPS_WRITE, application_self=True),
    ),
    "/servicePrincipals": (_same(*APPS_READ), _same(*APPS_WRITE, "AppRoleAssignment.ReadWrite.All")),
    "/oauth2PermissionGrants": (
        _same(*APPS_READ, "DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All"),
        _same("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"),
    ),
    "/organization": (
        _same(
            "OrganizationalBranding.Read.All",
            "OrganizationalBranding.ReadWrite.All",
            "Organization.Read.All",
            "Organization.ReadWrite.All",
            "Directory.Read.All",
        ),
        _same("OrganizationalBranding.ReadWrite.All", "Organization.ReadWrite.All"),
    ),
    "/auditLogs": (_same("AuditLog.Read.All"), Permissions()),
    "/reports/authenticationMethods": (_same("AuditLog.Read.All", *AUTH_METHODS_READ), Permissions()),
    # a batch is only an envelope: each of its requests is checked against its own row
    "/$batch": (Permissions(), Permissions(any_token=True)),
    "/directoryRoles": (_same(*ROLES_READ), _same("RoleManagement.ReadWrite.Directory")),
    "/roleManagement": (_same(*ROLES_READ), _same("RoleManagement.ReadWrite.Directory")),
    # a user's own methods need the non-.All permission; anyone else's the .All one (and a role)
    "/users/{user_ref}/authentication": (
        _same(*AUTH_METHODS_READ, self_names=("UserAuthenticationMethod.Read", "UserAuthenticationMethod.ReadWrite")),
        _same(*AUTH_METHODS_WRITE, self_names=("UserAuthenticationMethod.ReadWrite",)),
    ),
    "/users/{user_ref}/revokeMfaSessions": (Permissions(), _same(*AUTH_METHODS_WRITE)),
    # an administrator's reset of someone else's password: delegated only, as Graph has it
    "/users/{user_ref}/authentication/methods/{method_id}/resetPassword": (
        Permissions(),
        Permissions(delegated=AUTH_METHODS_WRITE),
    ),
    "/users/{user_ref}/authentication/passwordMethods/{method_id}/resetPassword": (
        Permissions(),
        Permissions(delegated=AUTH_METHODS_WRITE),
    ),
    "/invitations": (Permissions(), _same("User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All")),
    "/directory/authenticationMethodDevices": (_same(*POLICY_READ), _same(*POLICY_WRITE)),
    "/policies/authenticationMethodsPolicy": (_same(*POLICY_READ), _same(*POLICY_WRITE)),
    "/authenticationMethodsPolicy": (_same(*POLICY_READ), _same(*POLICY_WRITE)),
    "/policies/authenticationStrengthPolicies": (
        _same("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod"),
        _same("Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod"),
    ),
    "/policies/mfaSettings": (_same(*POLICY_READ), _same(*POLICY_WRITE)),
    "/identity/conditionalAccess/namedLocations": (
        _same("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"),
        _same("Policy.ReadWrite.ConditionalAccess"),
    ),
    "/identityProtection/riskDetections": (_same("IdentityRiskEvent.Read.All"), Permissions()),
    "/identityProtection/riskyUsers": (
        _same("IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All"),
        _same("IdentityRiskyUser.ReadWrite.All"),
    ),
}


def for_operation(path: str, method: str) -> Permissions:
    """The row of an operation (nobody, when no row covers it). /me/... is /users/{user_ref}/... on oneself."""
    if path == "/me" or path.startswith("/me/"):
        path = "/users/{user_ref}" + path[3:]
    prefixes = [p for p in TABLE if path == p or path.startswith(p + "/") or path.startswith(p + "(")]
    if not prefixes:
        return Permissions()
    read, write = TABLE[max(prefixes, key=len)]
    return read if method.upper() == "GET" else write
