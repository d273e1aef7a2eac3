"""Users as Graph shows them (the look-up every user-scoped resource shares, `target_user`, is the kit's)."""

import re

from sqlalchemy import select

from .. import clock
from ..directory import service as directory
from ..directory.models import Roles, User
from ..extensions import db
from . import access, odata
from ..kit.graph import audit, current_caller, odata_context, operation, read_json

USER_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "userPrincipalName": {"type": "string"},
        "displayName": {"type": "string"},
        "mail": {"type": ["string", "null"]},
        "userType": {"type": "string"},
        "accountEnabled": {"type": "boolean"},
    },
}


def graph_user(user: User) -> dict:
    return {
        "id": user.id,
        "userPrincipalName": user.upn,
        "displayName": user.display_name,
        "mail": user.mail,
        "mailNickname": user.mail_nickname,
        "givenName": user.given_name,
        "surname": user.surname,
        "jobTitle": user.job_title,
        "department": user.department,
        "usageLocation": user.usage_location,
        "userType": user.user_type,
        "accountEnabled": user.account_enabled,
        "externalUserState": user.external_user_state,
        "createdDateTime": clock.iso(user.created_at),
        "signInSessionsValidFromDateTime": clock.iso(user.sessions_valid_from),
        "businessPhones": [],
        "preferredLanguage": user.preferred_language,
        "officeLocation": None,
        "mobilePhone": None,
    }


USERS = odata.Collection(
    "User",
    {
        "id": odata.Prop(User.id, "guid", {"eq", "in", "ne", "not"}),
        "userPrincipalName": odata.Prop(
            User.upn, operators={"eq", "in", "startswith", "ne", "not", "endswith"}, sortable=True, lower=True
        ),
        "displayName": odata.Prop(
            User.display_name, operators={"eq", "in", "startswith", "ne", "not", "endswith"}, sortable=True
        ),
        "mail": odata.Prop(User.mail, operators={"eq", "in", "startswith", "ne", "not", "endswith"}, lower=True),
        "mailNickname": odata.Prop(User.mail_nickname, operators={"eq", "in", "startswith", "ne", "not", "endswith"}),
        "givenName": odata.Prop(User.given_name, operators={"eq", "in", "startswith", "ne", "not"}),
        "surname": odata.Prop(User.surname, operators={"eq", "in", "startswith", "ne", "not"}),
        "jobTitle": odata.Prop(User.job_title, operators={"eq", "in", "startswith", "ne", "not"}),
        "department": odata.Prop(User.department, operators={"eq", "in", "startswith", "ne", "not"}),
        "usageLocation": odata.Prop(User.usage_location, operators={"eq", "in", "ne", "not"}),
        "userType": odata.Prop(User.user_type, operators={"eq", "in", "ne", "not"}),
        "accountEnabled": odata.Prop(User.account_enabled, "bool", {"eq", "ne", "not"}),
        "createdDateTime": odata.Prop(User.created_at, "datetime", set(), sortable=False),
    },
    order=(User.upn, User.id),
    searchable=("displayName", "userPrincipalName", "mail", "givenName", "surname"),
)

USER_BODY = {
    "type": "object",
    "properties": {
        "accountEnabled": {"type": "boolean"},
        "displayName": {"type": "string"},
        "mailNickname": {"type": "string"},
        "userPrincipalName": {"type": "string"},
        "givenName": {"type": "string"},
        "surname": {"type": "string"},
        "jobTitle": {"type": "string"},
        "department": {"type": "string"},
        "mail": {"type": "string"},
        "usageLocation": {"type": "string"},
        "preferredLanguage": {"type": "string"},
        "passwordProfile": {
            "type": "object",
            "properties": {"password": {"type": "string"}, "forceChangePasswordNextSignIn": {"type": "boolean"}},
        },
    },
}
COLLECTION = {"type": "object", "properties": {"value": {"type": "array"}, "@odata.nextLink": {"type": "string"}}}


def directory_user(ref: str) -> User:
    """`{id}` of a directory operation: a user of the caller's tenant by id or UPN, or Graph's 404."""
    user = directory.find_user(current_caller().tenant, ref)
    if user is None:
        raise access.not_found(ref)
    return user


REFERENCE = re.compile(r"^(?:https?://[^/]+)?/(?:v1\.0|beta)/(?:directoryObjects|users)/([0-9a-fA-F-]{36})$")


def referenced_user(reference) -> User:
    """The user an `@odata.id` names (`https://graph.microsoft.com/v1.0/directoryObjects/{id}`; any host, as
    SDKs pointed at this server send their own base URL)."""
    match = REFERENCE.match(reference) if isinstance(reference, str) else None
    if not match:
        raise odata.bad_request("Invalid @odata.id: expected https://graph.microsoft.com/v1.0/directoryObjects/{id}.")
    user = db.session.get(User, match.group(1).lower())
    if user is None or user.tenant_id != current_caller().tenant.id:
        raise access.not_found(match.group(1))
    return user


def is_self(user: User) -> bool:
    caller = current_caller()
    return caller.user is not None and caller.user.id == user.id


def require_user_write() -> None:
    """Creating or changing users: User.ReadWrite.All (or Directory.ReadWrite.All) and, delegated, a user admin role."""
    access.require(access.USER_WRITE, access.USER_WRITE, access.USER_ADMINS)


def may_change(user: User) -> None:
    """User Administrators manage users without admin roles; anyone holding a role needs a Global (or
    Privileged Authentication) Administrator. The API and the console ask this alike."""
    caller = current_caller()
    require_user_write()
    if not user.roles:
        return
    # An app holds no directory role here, so it never changes a user who holds one (their password,
    # sign-in or name): else User.ReadWrite.All would be a way to take over a Global Administrator.
    if caller.is_app or not caller.roles & Roles.PRIVILEGED_AUTH_ADMINS:
        raise access.denied()


@operation("/users", ["GET"], summary="List users", responses={"200": ("Users", COLLECTION)})
def list_users():
    access.require(access.USER_READ, access.USER_READ_APP)
    stmt = select(User).where(User.tenant_id == current_caller().tenant.id)
    return USERS.page(stmt, graph_user, odata_context("users"))


@operation("/users/{user_ref}", ["GET"], summary="Get a user", responses={"200": ("User", USER_SCHEMA)})
def get_user(user_ref):
    user = directory_user(user_ref)
    if not is_self(user):
        access.require(access.USER_READ, access.USER_READ_APP)
    return {"@odata.context": odata_context("users/$entity"), **graph_user(user)}


@operation(
    "/users", ["POST"], summary="Create a user", body=USER_BODY, status=201, responses={"201": ("Created", USER_SCHEMA)}
)
def create_user():
    require_user_write()
    body = read_json()
    user = directory.new_user(current_caller().tenant, body)
    audit("Add user", "User", user.id, after=directory.user_snapshot(user))
    db.session.commit()
    return {"@odata.context": odata_context("users/$entity"), **graph_user(user)}, 201


@operation(
    "/users/{user_ref}",
    ["PATCH"],
    summary="Update a user",
    body=USER_BODY,
    status=204,
    responses={"204": ("Updated", None)},
)
def update_user(user_ref):
    user = directory_user(user_ref)
    may_change(user)
    changes = directory.update_user(user, read_json())
    if changes:
        audit(
            "Update user",
            "User",
            user.id,
            before={k: v[0] for k, v in changes.items() if k != "passwordProfile"},
            after={k: v[1] for k, v in changes.items()},
        )
    if "accountEnabled" in changes:
        audit("Disable account" if not user.account_enabled else "Enable account", "User", user.id)
    db.session.commit()
    return "", 204


def may_delete(user: User) -> None:
    may_change(user)
    if is_self(user):
        raise access.denied(OWN_DELETE)


OWN_DELETE = "You cannot delete your own account."


def may_revoke_sessions(user: User) -> None:
    """Ending someone's sessions: user admins, and Authentication Administrators for users without a role."""
    if is_self(user):
        return
    caller = current_caller()
    access.require(
        access.USER_WRITE | {"User.RevokeSessions.All"},
        access.USER_WRITE | {"User.RevokeSessions.All"},
        access.USER_ADMINS | {Roles.AUTH_ADMIN},
    )
    if not caller.is_app and user.roles and not caller.roles & Roles.PRIVILEGED_AUTH_ADMINS:
        raise access.denied()


@operation("/users/{user_ref}", ["DELETE"], summary="Delete a user", status=204, responses={"204": ("Deleted", None)})
def delete_user(user_ref):
    user = directory_user(user_ref)
    may_delete(user)
    snapshot = directory.user_snapshot(user)
    audit("Delete user", "User", user.id, before=snapshot)
    directory.delete_user(user)
    db.session.commit()
    return "", 204


@operation(
    "/users/{user_ref}/revokeSignInSessions",
    ["POST"],
    summary="Revoke a user's sign-in sessions",
    responses={"200": ("Revoked", {"type": "object", "properties": {"value": {"type": "boolean"}}})},
)
def revoke_sign_in_sessions(user_ref):
    user = directory_user(user_ref)
    may_revoke_sessions(user)
    directory.revoke_sign_in_sessions(user)
    audit("Revoke sign-in sessions", "User", user.id)
    db.session.commit()
    return {"@odata.context": odata_context("Edm.Boolean"), "value": True}
