"""Directory roles: `/directoryRoles` (with members) and `/roleManagement/directory/roleDefinitions|roleAssignments`
over the roles this server knows (Entra's template ids; one role object per tenant and template)."""

import uuid

from sqlalchemy import select

from ..directory.models import RoleAssignment, Roles, User
from ..extensions import db
from . import access, odata
from ..kit.graph import audit, current_caller, odata_context, operation, read_json
from .users import COLLECTION, graph_user, referenced_user

NAMESPACE = uuid.UUID("3f0c8f52-7a4c-4a51-9d7e-1d1f3c2b0a91")
BY_TEMPLATE = {template: name for name, template in Roles.TEMPLATE_IDS.items()}
DESCRIPTIONS = {
    Roles.GLOBAL_ADMIN: "Can manage all aspects of Microsoft Entra ID.",
    Roles.GLOBAL_READER: "Can read everything that a Global Administrator can, but not update anything.",
    Roles.USER_ADMIN: "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    Roles.GROUPS_ADMIN: "Members of this role can create/manage groups and group settings.",
    Roles.APP_ADMIN: "Can create and manage all aspects of app registrations and enterprise apps.",
    Roles.CLOUD_APP_ADMIN: "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
    Roles.AUTH_ADMIN: "Can access to view, set and reset authentication method information for any non-admin user.",
    Roles.PRIVILEGED_AUTH_ADMIN: "Can access to view, set and reset authentication method information for any user.",
    Roles.AUTH_POLICY_ADMIN: "Can create and manage the authentication methods policy, tenant-wide MFA settings, "
    "password protection policy, and verifiable credentials.",
    Roles.SECURITY_ADMIN: "Can read security information and reports, and manage configuration in Microsoft Entra ID.",
    Roles.SECURITY_READER: "Can read security information and reports in Microsoft Entra ID.",
    Roles.CA_ADMIN: "Can manage Conditional Access capabilities.",
    Roles.REPORTS_READER: "Can read sign-in and audit reports.",
    Roles.PRIVILEGED_ROLE_ADMIN: "Can manage role assignments in Microsoft Entra ID, and all aspects of "
    "Privileged Identity Management.",
}
ASSIGNMENT_BODY = {
    "type": "object",
    "required": ["principalId", "roleDefinitionId"],
    "properties": {
        "principalId": {"type": "string"},
        "roleDefinitionId": {"type": "string"},
        "directoryScopeId": {"type": "string"},
    },
}
REF_BODY = {"type": "object", "required": ["@odata.id"], "properties": {"@odata.id": {"type": "string"}}}


def role_object_id(tenant_id: str, role: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{tenant_id}/{role}"))


def assignment_id(role: str, user_id: str) -> str:
    return f"{Roles.TEMPLATE_IDS[role]}_{user_id}"


def graph_directory_role(tenant, role: str) -> dict:
    return {
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": role_object_id(tenant.id, role),
        "displayName": role,
        "description": DESCRIPTIONS.get(role),
        "roleTemplateId": Roles.TEMPLATE_IDS[role],
    }


def graph_definition(role: str) -> dict:
    return {
        "id": Roles.TEMPLATE_IDS[role],
        "templateId": Roles.TEMPLATE_IDS[role],
        "displayName": role,
        "description": DESCRIPTIONS.get(role),
        "isBuiltIn": True,
        "isEnabled": True,
    }


def graph_assignment(role: str, user_id: str) -> dict:
    return {
        "id": assignment_id(role, user_id),
        "principalId": user_id,
        "roleDefinitionId": Roles.TEMPLATE_IDS[role],
        "directoryScopeId": "/",
    }


def _role_by_object_id(object_id: str) -> str:
    tenant_id = current_caller().tenant.id
    for role in Roles.ALL:
        if object_id in (role_object_id(tenant_id, role), Roles.TEMPLATE_IDS[role]):
            return role
    raise access.not_found(object_id)


def _tenant_user(user_id) -> User:
    user = db.session.get(User, user_id) if isinstance(user_id, str) and len(user_id) <= 36 else None
    if user is None or user.tenant_id != current_caller().tenant.id:
        raise access.not_found(str(user_id)[:100])
    return user


def _read():
    access.require(access.ROLE_READ, access.ROLE_READ)


def _write():
    access.require(access.ROLE_WRITE, access.ROLE_WRITE, access.ROLE_ADMINS)


@operation("/directoryRoles", ["GET"], summary="List directory roles", responses={"200": ("Roles", COLLECTION)})
def list_directory_roles():
    _read()
    tenant = current_caller().tenant
    return {
        "@odata.context": odata_context("directoryRoles"),
        "value": [graph_directory_role(tenant, role) for role in Roles.ALL],
    }


@operation(
    "/directoryRoles/{role_id}",
    ["GET"],
    summary="Get a directory role",
    responses={"200": ("Role", {"type": "object"})},
)
def get_directory_role(role_id):
    _read()
    return {
        "@odata.context": odata_context("directoryRoles/$entity"),
        **graph_directory_role(current_caller().tenant, _role_by_object_id(role_id)),
    }


@operation(
    "/directoryRoles/{role_id}/members",
    ["GET"],
    summary="List a directory role's members",
    responses={"200": ("Members", COLLECTION)},
)
def list_role_members(role_id):
    _read()
    role = _role_by_object_id(role_id)
    users = db.session.scalars(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == role, User.tenant_id == current_caller().tenant.id)
        .order_by(User.upn)
    )
    return {
        "@odata.context": odata_context("directoryObjects"),
        "value": [{"@odata.type": "#microsoft.graph.user", **graph_user(u)} for u in users],
    }


@operation(
    "/directoryRoles/{role_id}/members/$ref",
    ["POST"],
    summary="Assign a directory role to a user",
    body=REF_BODY,
    status=204,
    responses={"204": ("Assigned", None)},
)
def add_role_member(role_id):
    _write()
    role = _role_by_object_id(role_id)
    _assign(role, referenced_user(read_json().get("@odata.id")))
    return "", 204


@operation(
    "/directoryRoles/{role_id}/members/{member_id}/$ref",
    ["DELETE"],
    summary="Remove a directory role member",
    status=204,
    responses={"204": ("Removed", None)},
)
def remove_role_member(role_id, member_id):
    _write()
    _unassign(_role_by_object_id(role_id), _tenant_user(member_id))
    return "", 204


def _assign(role: str, user: User) -> None:
    if db.session.get(RoleAssignment, (user.id, role)):
        raise odata.bad_request(
            "A conflicting object with one or more of the specified property values is present in the directory."
        )
    db.session.add(RoleAssignment(user_id=user.id, role=role))
    audit("Add member to role", "User", user.id, after={"role": role})
    db.session.commit()


def _unassign(role: str, user: User) -> None:
    assignment = db.session.get(RoleAssignment, (user.id, role))
    if assignment is None:
        raise access.not_found(user.id)
    if (
        role == Roles.GLOBAL_ADMIN
        and db.session.scalar(
            select(db.func.count())
            .select_from(RoleAssignment)
            .join(User, User.id == RoleAssignment.user_id)
            .where(RoleAssignment.role == role, User.tenant_id == user.tenant_id)
        )
        == 1
    ):
        raise odata.bad_request("The last Global Administrator of the organization cannot be removed.")
    db.session.delete(assignment)
    audit("Remove member from role", "User", user.id, before={"role": role})
    db.session.commit()


@operation(
    "/roleManagement/directory/roleDefinitions",
    ["GET"],
    summary="List role definitions",
    responses={"200": ("Definitions", COLLECTION)},
)
def list_role_definitions():
    _read()
    return {
        "@odata.context": odata_context("roleManagement/directory/roleDefinitions"),
        "value": [graph_definition(role) for role in Roles.ALL],
    }


@operation(
    "/roleManagement/directory/roleAssignments",
    ["GET"],
    summary="List role assignments ($filter on principalId or roleDefinitionId)",
    responses={"200": ("Assignments", COLLECTION)},
)
def list_role_assignments():
    _read()
    rows = db.session.execute(
        select(RoleAssignment.role, RoleAssignment.user_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(User.tenant_id == current_caller().tenant.id)
        .order_by(RoleAssignment.user_id, RoleAssignment.role)
    ).all()
    value = [graph_assignment(role, user_id) for role, user_id in rows if role in Roles.TEMPLATE_IDS]
    wanted = _assignment_filter()
    if wanted:
        value = [a for a in value if all(a[k] == v for k, v in wanted.items())]
    return {"@odata.context": odata_context("roleManagement/directory/roleAssignments"), "value": value}


def _assignment_filter() -> dict:
    import re

    from flask import request

    raw = request.args.get("$filter")
    if not raw:
        return {}
    wanted = {}
    for clause in re.split(r"\s+and\s+", raw.strip()):
        match = re.fullmatch(r"(principalId|roleDefinitionId)\s+eq\s+'([0-9a-fA-F-]{36})'", clause.strip())
        if not match:
            raise odata.unsupported(
                "Unsupported or invalid query filter clause specified for property of resource 'unifiedRoleAssignment'."
            )
        wanted[match.group(1)] = match.group(2).lower()
    return wanted


@operation(
    "/roleManagement/directory/roleAssignments",
    ["POST"],
    summary="Assign a role",
    body=ASSIGNMENT_BODY,
    status=201,
    responses={"201": ("Created", {"type": "object"})},
)
def create_role_assignment():
    _write()
    body = read_json()
    if body.get("directoryScopeId", "/") != "/":
        raise odata.bad_request("Only the directory scope '/' is supported.")
    role = BY_TEMPLATE.get(str(body.get("roleDefinitionId", "")).lower())
    if role is None:
        raise access.not_found(str(body.get("roleDefinitionId"))[:100])
    user = _tenant_user(body.get("principalId"))
    _assign(role, user)
    return {
        "@odata.context": odata_context("roleManagement/directory/roleAssignments/$entity"),
        **graph_assignment(role, user.id),
    }, 201


@operation(
    "/roleManagement/directory/roleAssignments/{assignment_id}",
    ["DELETE"],
    summary="Remove a role assignment",
    status=204,
    responses={"204": ("Removed", None)},
)
def delete_role_assignment(assignment_id):
    _write()
    template, _, user_id = assignment_id.partition("_")
    role = BY_TEMPLATE.get(template)
    if role is None:
        raise access.not_found(assignment_id)
    _unassign(role, _tenant_user(user_id))
    return "", 204
