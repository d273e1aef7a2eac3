"""A user's password method by its well-known id, and an administrator's resetPassword. Graph runs the reset as
a long-running operation: 202 Accepted, a Location header naming `/users/{id}/authentication/operations/{id}`,
and the generated password (when the admin gave none) in the body. Here the reset is done by the time the 202
is sent, so the operation reads "succeeded"; it is kept as the audit log's "Reset user password" entry."""

import uuid

from flask import request
from sqlalchemy import select

from .. import clock
from ..audit.models import AuditLog
from ..directory import service as directory
from ..directory.models import Roles, User
from ..directory.service import DirectoryError
from ..extensions import db
from ..methods import rbac
from ..oidc import naming
from . import access
from ..kit.graph import audit, current_caller, odata_context, operation, read_json
from .methods_overview import PASSWORD_ID, _authorized, password_method
from .users import directory_user

OBJECT = {"type": "object"}
RESET_BODY = {"type": "object", "properties": {"newPassword": {"type": ["string", "null"]}}}
ACTIVITY = "Reset user password"
#: besides the authentication administrators (idp/methods/rbac.py), Graph lets User Administrators reset the
#: passwords of users without an admin role
NON_ADMIN_RESETTERS = {Roles.USER_ADMIN}


def _password_of(user_ref: str, method_id: str) -> tuple[User, dict]:
    user = _authorized(user_ref)
    found = [m for m in password_method(user) if m["id"] == method_id.lower()]
    if not found:
        raise access.not_found(method_id)
    return user, found[0]


@operation(
    "/users/{user_ref}/authentication/passwordMethods/{method_id}",
    ["GET"],
    summary="The user's password method (id 28c10230-6103-485e-b985-444c60001490)",
    responses={"200": ("Password method", OBJECT)},
)
def get_password_method(user_ref, method_id):
    user, method = _password_of(user_ref, method_id)
    context = odata_context(f"users('{user.id}')/authentication/passwordMethods/$entity")
    return {"@odata.context": context, **{k: v for k, v in method.items() if k != "@odata.type"}}


def may_reset(user: User) -> None:
    """Delegated only (Graph has no application permission for it), never one's own password, and a role
    allowed to reset this user's password."""
    caller = current_caller()
    if caller.is_app:
        raise access.denied("resetPassword is not supported with application permissions: use a delegated token.")
    if caller.user.id == user.id:
        raise access.denied("resetPassword cannot be performed on your own account.")
    if caller.roles & NON_ADMIN_RESETTERS and not user.is_admin:
        return
    rbac.authorize(caller, user, "create")


def _reset(user_ref: str, method_id: str):
    user = directory_user(user_ref)
    may_reset(user)
    if method_id.lower() != PASSWORD_ID or not user.password_hash:
        raise access.not_found(method_id)
    new_password = read_json().get("newPassword")
    if new_password is not None and not isinstance(new_password, str):
        raise DirectoryError("Property 'newPassword' must be a string.", target="newPassword")
    generated = directory.reset_password(user, new_password)
    operation_id = str(uuid.uuid4())
    audit(ACTIVITY, "User", user.id, after={"operationId": operation_id, "passwordGenerated": generated is not None})
    db.session.commit()
    version = "beta" if request.path.startswith("/beta/") else "v1.0"
    location = f"{naming.base_url()}/{version}/users/{user.id}/authentication/operations/{operation_id}"
    body = {"@odata.context": odata_context("microsoft.graph.passwordResetResponse"), "newPassword": generated}
    return body, 202, {"Location": location}


RESET = {
    "summary": "Reset the user's password (an administrator's; the user changes it at the next sign-in)",
    "body": RESET_BODY,
    "status": 202,
    "responses": {"202": ("Accepted: the reset's operation in Location", OBJECT)},
}


@operation("/users/{user_ref}/authentication/methods/{method_id}/resetPassword", ["POST"], **RESET)
def reset_password(user_ref, method_id):
    return _reset(user_ref, method_id)


@operation("/users/{user_ref}/authentication/passwordMethods/{method_id}/resetPassword", ["POST"], **RESET)
def reset_password_method(user_ref, method_id):
    return _reset(user_ref, method_id)


@operation(
    "/users/{user_ref}/authentication/operations/{operation_id}",
    ["GET"],
    summary="The status of a password reset (a long-running operation)",
    responses={"200": ("Operation", OBJECT)},
)
def get_operation(user_ref, operation_id):
    user = _authorized(user_ref)
    entries = db.session.scalars(
        select(AuditLog).where(
            AuditLog.tenant_id == user.tenant_id, AuditLog.target_id == user.id, AuditLog.activity == ACTIVITY
        )
    )
    entry = next((e for e in entries if (e.after or {}).get("operationId") == operation_id.lower()), None)
    if entry is None:
        raise access.not_found(operation_id)
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/operations/$entity"),
        "@odata.type": "#microsoft.graph.longRunningOperation",
        "id": operation_id.lower(),
        "createdDateTime": clock.iso(entry.created_at),
        "lastActionDateTime": clock.iso(entry.created_at),
        "resourceLocation": f"{naming.base_url()}/v1.0/users/{user.id}/authentication/passwordMethods/{PASSWORD_ID}",
        "status": "succeeded",
        "statusDetail": None,
    }
