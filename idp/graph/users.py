"""Users as Graph shows them, and the look-up every user-scoped resource shares."""
import re

from flask import request
from sqlalchemy import select

from ..directory import service as directory
from ..directory.models import User
from ..extensions import db
from .api import bad_request, current_caller, forbidden, not_found, odata_context, operation

USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string"}, "userPrincipalName": {"type": "string"}, "displayName": {"type": "string"},
    "mail": {"type": ["string", "null"]}, "userType": {"type": "string"}, "accountEnabled": {"type": "boolean"}}}


def target_user(ref: str) -> User:
    """The user `{id}` of the caller's tenant, by object id or UPN; 404 otherwise."""
    user = directory.find_user(current_caller().tenant, ref)
    if user is None:
        raise not_found(f"Resource '{ref[:100]}' does not exist or one of its queried reference-property objects are not present.")
    return user


def graph_user(user: User) -> dict:
    return {"id": user.id, "userPrincipalName": user.upn, "displayName": user.display_name, "mail": user.mail,
            "userType": user.user_type, "accountEnabled": user.account_enabled,
            "externalUserState": user.external_user_state}


FILTERABLE = {"userPrincipalName": User.upn, "displayName": User.display_name, "mail": User.mail,
              "userType": User.user_type, "id": User.id}
FILTER = re.compile(r"^\s*(?:(\w+)\s+eq\s+'((?:[^']|'')*)'|startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\))\s*$")


def _filter(expression: str):
    """The part of OData $filter Graph offers on users and admin scripts use: `prop eq 'v'`, `startswith(prop,'v')`."""
    match = FILTER.match(expression)
    name = match and (match.group(1) or match.group(3))
    if not match or name not in FILTERABLE:
        raise bad_request(f"Unsupported $filter: {expression[:200]}. Use \"<property> eq '<value>'\" or "
                          f"\"startswith(<property>,'<value>')\" on {', '.join(FILTERABLE)}.")
    column = FILTERABLE[name]
    value = (match.group(2) if match.group(1) else match.group(4)).replace("''", "'")
    if name in ("userPrincipalName", "mail"):
        value = value.lower()
    return column == value if match.group(1) else column.startswith(value, autoescape=True)


def _may_read_users() -> bool:
    caller = current_caller()
    if caller.is_app:
        return caller.has_permission("User.Read.All", "User.ReadWrite.All", "Directory.Read.All")
    return bool(caller.roles)  # any directory role may read the directory


@operation("/users", ["GET"], summary="List users", responses={"200": ("Users", {"type": "object"})})
def list_users():
    if not _may_read_users():
        raise forbidden()
    stmt = select(User).where(User.tenant_id == current_caller().tenant.id)
    if request.args.get("$filter"):
        stmt = stmt.where(_filter(request.args["$filter"]))
    users = db.session.scalars(stmt.order_by(User.upn).limit(999))
    return {"@odata.context": odata_context("users"), "value": [graph_user(u) for u in users]}


@operation("/users/{user_ref}", ["GET"], summary="Get a user", responses={"200": ("User", USER_SCHEMA)})
def get_user(user_ref):
    caller = current_caller()
    user = target_user(user_ref)
    if not (_may_read_users() or (caller.user and caller.user.id == user.id)):
        raise forbidden()
    return {"@odata.context": odata_context("users/$entity"), **graph_user(user)}
