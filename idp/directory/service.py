"""Directory look-ups and changes used by the flow, the CLI and the admin API (a group's own changes: groups.py)."""

import functools
import re

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from ..errors import ServiceError
from .. import cache, passwords
from ..extensions import db
from .models import Domain, Group, GroupMember, RoleAssignment, Roles, Tenant, User

# Tenant-less entry points (members only; the tenant comes from the UPN's domain).
TENANTLESS = {"common", "organizations"}


def find_tenant(ref: str | None) -> Tenant | None:
    """A tenant by id or by any verified domain (which id a reference names is cached for 60 s)."""
    if not ref or len(ref) > 253:
        return None
    return cache.attached(Tenant, tenant_values(ref))


def tenant_values(ref: str) -> dict | None:
    """The cached columns of the tenant `ref` names (id or verified domain, any case), for a caller that needs
    no row (the token path below Flask, oidc/quick_path.py)."""
    if not ref or len(ref) > 253:
        return None
    ref = ref.lower()
    return cache.named("tenants", ttl=60).get(ref, lambda: _tenant_values(ref))


def _tenant_values(ref: str) -> dict | None:
    tenant = db.session.get(Tenant, ref)
    if tenant is None:
        domain = db.session.get(Domain, ref)
        tenant = domain.tenant if domain else None
    return cache.column_values(tenant)


def tenant_for_upn(upn: str) -> Tenant | None:
    _, _, domain = upn.rpartition("@")
    found = db.session.get(Domain, domain.lower()) if domain else None
    return found.tenant if found else None


def find_user(tenant: Tenant, ref: str) -> User | None:
    """A user of `tenant` by object id or UPN."""
    if not ref or len(ref) > 320:
        return None
    user = db.session.get(User, ref) if "@" not in ref else None  # an object id never holds an @, a UPN does
    if user is None:  # with the roles, in the same query: the sign-in reads them next
        user = db.session.execute(_by_upn_with_roles(), {"upn": ref.lower()}).unique().scalar_one_or_none()
    return user if user and user.tenant_id == tenant.id else None


@functools.cache
def _by_upn_with_roles() -> Select:
    """Built once, on first use (the mappers are configured by then), so its compiled-cache key is too: every
    sign-in's username step runs it."""
    return select(User).where(User.upn == bindparam("upn")).options(joinedload(User.role_assignments))


def find_by_sign_in_name(tenant: Tenant, name: str) -> User | None:
    """Who types `name` on this tenant's sign-in page: a user by UPN, or an external guest by address."""
    user = find_user(tenant, name)
    if user is None and name:
        user = db.session.scalar(
            select(User).where(User.tenant_id == tenant.id, User.user_type == "Guest", User.mail == name.lower()[:320])
        )
    return user


def home_account(guest: User) -> User | None:
    """The guest's own account in another tenant of this server: a member of the tenant that has verified the
    address's domain, whose UPN (or mail) is the address. `mail` alone proves nothing: any User Administrator
    sets it, so a tenant that does not own the domain never answers for it."""
    address = (guest.mail or "").lower()
    home = tenant_for_upn(address) if "@" in address else None
    if home is None or home.id == guest.tenant_id:
        return None
    return db.session.scalar(
        select(User)
        .where(User.tenant_id == home.id, User.user_type == "Member", (User.upn == address) | (User.mail == address))
        .order_by((User.upn == address).desc(), User.id)
        .limit(1)
    )


def group_ids_of(user: User) -> set[str]:
    return set(db.session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user.id)))


def create_tenant(display_name: str, domains: list[str]) -> Tenant:
    tenant = Tenant(display_name=display_name)
    db.session.add(tenant)
    for name in domains:
        db.session.add(Domain(name=name.lower(), tenant=tenant))
    db.session.flush()
    return tenant


def create_user(
    tenant: Tenant,
    upn: str,
    display_name: str | None = None,
    password: str | None = None,
    roles: list[str] = (),
    groups: list[Group] = (),
    guest: str | None = None,
    mail: str | None = None,
) -> User:
    for role in roles:
        if role not in Roles.ALL:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(Roles.ALL)}")
    if guest not in (None, "internal", "external"):
        raise ValueError("guest must be 'internal' or 'external'")
    user = User(
        tenant=tenant,
        upn=upn.lower(),
        display_name=display_name or upn.split("@")[0],
        mail=(mail or upn).lower(),
        user_type="Guest" if guest else "Member",
        guest_kind=guest,
        password_hash=passwords.hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    for role in roles:
        db.session.add(RoleAssignment(user_id=user.id, role=role))
    for group in groups:
        db.session.add(GroupMember(group_id=group.id, user_id=user.id))
    db.session.flush()
    return user


def find_group(tenant: Tenant, ref: str) -> Group | None:
    group = db.session.get(Group, ref)
    if group is None:
        group = db.session.scalar(select(Group).where(Group.tenant_id == tenant.id, Group.display_name == ref))
    return group if group and group.tenant_id == tenant.id else None


def create_group(tenant: Tenant, display_name: str) -> Group:
    group = Group(tenant_id=tenant.id, display_name=display_name)
    db.session.add(group)
    db.session.flush()
    return group


def add_member(group: Group, user: User) -> None:
    if not db.session.get(GroupMember, (group.id, user.id)):
        db.session.add(GroupMember(group_id=group.id, user_id=user.id))
        db.session.flush()


# --- users and groups as the Graph API, the CLI and the console change them ---------------------------


class DirectoryError(ServiceError, ValueError):
    """A refused directory change in the directory's codes (Request_BadRequest, ...); `target` the property."""

    def __init__(
        self,
        message: str,
        code: str = "Request_BadRequest",
        target: str | None = None,
        detail_code: str | None = None,
        status: int = 400,
        reason_id: str | None = None,
        values: dict | None = None,
    ):
        super().__init__(
            message, status, code=code, target=target, detail_code=detail_code, reason_id=reason_id, values=values
        )


#: callables (user) run when a user's sessions and refresh tokens must end (disabled, deleted, revoked);
#: the sign-in and token layers register theirs (the directory knows neither)
session_revokers: list = []

#: profile properties Graph lets an administrator set, with their column and maximum length
PROFILE = {
    "displayName": ("display_name", 256),
    "givenName": ("given_name", 64),
    "surname": ("surname", 64),
    "jobTitle": ("job_title", 128),
    "department": ("department", 64),
    "mail": ("mail", 320),
    "usageLocation": ("usage_location", 2),
    "mailNickname": ("mail_nickname", 64),
    "preferredLanguage": ("preferred_language", 10),
}
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?")
NICKNAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}")  # always fullmatch: `$` admits a newline
#: an address in `mail`: one line, no spaces, one @, a dotted domain (what the mailer can put in a header)
MAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
#: C0/C1 control characters and line/paragraph separators: never part of a one-line directory property
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _text(name: str, value, limit: int, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise DirectoryError(
            f"Invalid value specified for property '{name}' of resource 'User'.",
            target=name,
            reason_id="directory.required",
        )
    if len(value) > limit:
        raise DirectoryError(
            f"Property '{name}' is too long (at most {limit} characters).",
            target=name,
            reason_id="directory.too_long",
            values={"limit": limit},
        )
    if CONTROL.search(value.strip()):
        raise DirectoryError(
            f"Property '{name}' may not contain line breaks or control characters.",
            target=name,
            reason_id="directory.control",
        )
    return value.strip()


def _verified_upn(tenant: Tenant, upn) -> str:
    upn = _text("userPrincipalName", upn, 113, required=True).lower()
    local, _, domain = upn.rpartition("@")
    if not local or not NICKNAME.fullmatch(local) or local.startswith(".") or local.endswith("."):
        raise DirectoryError("Property userPrincipalName is invalid.", target="userPrincipalName")
    if domain not in {d.name for d in tenant.domains}:
        raise DirectoryError(
            "The domain portion of the userPrincipalName property is invalid. You must use one of "
            "the verified domain names in your organization.",
            target="userPrincipalName",
            reason_id="directory.domain",
        )
    return upn


def _unique_upn(upn: str, except_id: str | None = None) -> None:
    clash = db.session.scalar(select(User.id).where(User.upn == upn))
    if clash and clash != except_id:
        raise DirectoryError(
            "Another object with the same value for property userPrincipalName already exists.",
            target="userPrincipalName",
            detail_code="ObjectConflict",
        )


def _password_profile(value, required: bool) -> tuple[str | None, bool]:
    if value is None and not required:
        return None, False
    if not isinstance(value, dict) or (required and not value.get("password")):
        raise DirectoryError(
            "Property 'passwordProfile' is required and must hold a password.", target="passwordProfile"
        )
    password, force = value.get("password"), value.get("forceChangePasswordNextSignIn", True)
    if password is not None and not passwords.meets_complexity(password):
        raise DirectoryError(
            "The specified password does not comply with password complexity requirements. "
            "Please provide a different password.",
            target="passwordProfile",
        )
    if not isinstance(force, bool):
        raise DirectoryError("Property 'forceChangePasswordNextSignIn' must be a boolean.", target="passwordProfile")
    return password, force


def new_user(tenant: Tenant, body: dict) -> User:
    """POST /users: accountEnabled, displayName, mailNickname, userPrincipalName and passwordProfile required."""
    for name in ("accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"):
        if body.get(name) is None:
            raise DirectoryError(f"Property '{name}' is required when creating the user.", target=name)
    if not isinstance(body["accountEnabled"], bool):
        raise DirectoryError("Property 'accountEnabled' must be a boolean.", target="accountEnabled")
    upn = _verified_upn(tenant, body["userPrincipalName"])
    if not isinstance(body["mailNickname"], str) or not NICKNAME.fullmatch(body["mailNickname"]):
        raise DirectoryError("Property 'mailNickname' is invalid.", target="mailNickname")
    password, force = _password_profile(body["passwordProfile"], required=True)
    _unique_upn(upn)
    user = User(
        tenant=tenant,
        upn=upn,
        user_type="Member",
        account_enabled=body["accountEnabled"],
        password_hash=passwords.hash_password(password),
        force_change_password=force,
        display_name="",
        mail=None,
    )
    _apply_profile(user, body)
    db.session.add(user)
    db.session.flush()
    return user


def _apply_profile(user: User, body: dict) -> None:
    for name, (column, limit) in PROFILE.items():
        if name in body:
            value = _text(name, body[name], limit, required=name in ("displayName", "mailNickname"))
            if name == "mail" and value:
                if not MAIL.fullmatch(value):
                    raise DirectoryError(
                        "Property 'mail' must be an email address.", target=name, reason_id="directory.mail"
                    )
                value = value.lower()
            if name == "usageLocation" and value and not re.fullmatch(r"[A-Za-z]{2}", value):
                raise DirectoryError(
                    "Property 'usageLocation' must be a two-letter country code.",
                    target=name,
                    reason_id="directory.usage_location",
                )
            if name == "preferredLanguage" and value and not LANGUAGE_TAG.fullmatch(value):
                raise DirectoryError(
                    "Property 'preferredLanguage' must be a language tag such as 'ja-JP'.",
                    target=name,
                    reason_id="directory.language",
                )
            setattr(user, column, value.upper() if name == "usageLocation" and value else value)


UPDATABLE = set(PROFILE) | {"accountEnabled", "userPrincipalName", "passwordProfile"}


def update_user(user: User, body: dict) -> dict:
    """PATCH /users/{id}. Returns {property: (before, after)} of what changed. Disabling an account ends its
    sessions and refresh tokens; a new password too, unless it is the user's own change."""
    unknown = set(body) - UPDATABLE - {"@odata.type", "id"}
    if unknown:
        name = min(unknown)
        raise DirectoryError(
            f"Property '{name[:64]}' cannot be updated or does not exist on resource 'User'.", target=name[:64]
        )
    before = user_snapshot(user)
    if "userPrincipalName" in body:
        upn = _verified_upn(user.tenant, body["userPrincipalName"])
        _unique_upn(upn, except_id=user.id)
        user.upn = upn
    _apply_profile(user, body)
    if "accountEnabled" in body:
        if not isinstance(body["accountEnabled"], bool):
            raise DirectoryError("Property 'accountEnabled' must be a boolean.", target="accountEnabled")
        user.account_enabled = body["accountEnabled"]
    revoke = before["accountEnabled"] and not user.account_enabled
    if "passwordProfile" in body:
        password, force = _password_profile(body["passwordProfile"], required=False)
        if password:
            user.password_hash = passwords.hash_password(password)
            revoke = True
        user.force_change_password = force
    db.session.flush()
    if revoke:
        revoke_sign_in_sessions(user)
    after = user_snapshot(user)
    return {k: (before[k], after[k]) for k in after if before[k] != after[k]}


def user_snapshot(user: User) -> dict:
    return {
        "userPrincipalName": user.upn,
        "accountEnabled": user.account_enabled,
        **{name: getattr(user, column) for name, (column, _) in PROFILE.items()},
        "forceChangePasswordNextSignIn": user.force_change_password,
    }


def reset_password(user: User, new_password) -> str | None:
    """An administrator's password reset (Graph's resetPassword): the given password or a generated one (then
    returned); the user changes it at the next sign-in, and every session and refresh token ends."""
    if new_password is not None and not passwords.meets_complexity(new_password):
        raise DirectoryError(
            "The specified password does not comply with password complexity requirements. "
            "Please provide a different password.",
            target="newPassword",
        )
    generated = passwords.generate() if new_password is None else None
    user.password_hash = passwords.hash_password(new_password if generated is None else generated)
    user.force_change_password = True
    db.session.flush()
    revoke_sign_in_sessions(user)
    return generated


def revoke_sign_in_sessions(user: User) -> None:
    """revokeSignInSessions: every SSO session and refresh token issued before now ends (the caller commits)."""
    from .. import clock

    user.sessions_valid_from = clock.now()
    for revoke in session_revokers:
        revoke(user)


def delete_user(user: User) -> None:
    """DELETE /users/{id}: its sessions and tokens end; methods, memberships and roles go with the row
    (ON DELETE CASCADE)."""
    revoke_sign_in_sessions(user)
    db.session.delete(user)
    db.session.flush()


def groups_of(user: User) -> list[Group]:
    return list(
        db.session.scalars(
            select(Group)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.user_id == user.id)
            .order_by(Group.display_name)
        )
    )


def remove_member(group: Group, user: User) -> bool:
    member = db.session.get(GroupMember, (group.id, user.id))
    if member is None:
        return False
    db.session.delete(member)
    db.session.flush()
    return True


def is_member(group: Group, user: User) -> bool:
    return db.session.get(GroupMember, (group.id, user.id)) is not None
