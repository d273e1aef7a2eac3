"""Directory look-ups and changes used by the flow, the CLI and the admin API."""
from sqlalchemy import select

from .. import cache, passwords
from ..extensions import db
from .models import Domain, Group, GroupMember, RoleAssignment, Roles, Tenant, User

# Tenant-less entry points (members only; the tenant comes from the UPN's domain).
TENANTLESS = {"common", "organizations"}


def find_tenant(ref: str | None) -> Tenant | None:
    """A tenant by id or by any verified domain (which id a reference names is cached for 60 s)."""
    if not ref or len(ref) > 253:
        return None
    ref = ref.lower()
    return cache.attached(Tenant, cache.named("tenants", ttl=60).get(ref, lambda: _tenant_values(ref)))


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
    if user is None:
        user = db.session.scalar(select(User).where(User.upn == ref.lower()))
    return user if user and user.tenant_id == tenant.id else None


def find_by_sign_in_name(tenant: Tenant, name: str) -> User | None:
    """Who types `name` on this tenant's sign-in page: a user by UPN, or an external guest by address."""
    user = find_user(tenant, name)
    if user is None and name:
        user = db.session.scalar(select(User).where(User.tenant_id == tenant.id, User.user_type == "Guest",
                                                    User.mail == name.lower()[:320]))
    return user


def home_account(guest: User) -> User | None:
    """The guest's own account in another tenant of this server (a member whose UPN or mail is the address)."""
    address = (guest.mail or "").lower()
    if not address:
        return None
    return db.session.scalar(select(User).where(User.tenant_id != guest.tenant_id, User.user_type == "Member",
                                                (User.upn == address) | (User.mail == address)).limit(1))


def group_ids_of(user: User) -> set[str]:
    return set(db.session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user.id)))


def create_tenant(display_name: str, domains: list[str]) -> Tenant:
    tenant = Tenant(display_name=display_name)
    db.session.add(tenant)
    for name in domains:
        db.session.add(Domain(name=name.lower(), tenant=tenant))
    db.session.flush()
    return tenant


def create_user(tenant: Tenant, upn: str, display_name: str | None = None, password: str | None = None,
                roles: list[str] = (), groups: list[Group] = (), guest: str | None = None,
                mail: str | None = None) -> User:
    for role in roles:
        if role not in Roles.ALL:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(Roles.ALL)}")
    if guest not in (None, "internal", "external"):
        raise ValueError("guest must be 'internal' or 'external'")
    user = User(tenant=tenant, upn=upn.lower(), display_name=display_name or upn.split("@")[0],
                mail=(mail or upn).lower(), user_type="Guest" if guest else "Member", guest_kind=guest,
                password_hash=passwords.hash_password(password) if password else None)
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
