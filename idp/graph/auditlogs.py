"""`/auditLogs/signIns` and `/auditLogs/directoryAudits`: the sign-in and audit logs in Graph's shapes."""

from sqlalchemy import select

from .. import clock
from ..audit import first_party
from ..audit.models import AuditLog, SignInLog
from ..directory.models import Group, User
from ..extensions import db
from ..oidc.models import Client
from . import access, odata
from ..kit.graph import current_caller, odata_context, operation
from .users import COLLECTION

RANGE = {"ge", "gt", "le", "lt"}
SIGN_INS = odata.Collection(
    "SignIn",
    {
        "id": odata.Prop(SignInLog.id, "guid", {"eq"}),
        "createdDateTime": odata.Prop(SignInLog.created_at, "datetime", RANGE, sortable=True),
        "userPrincipalName": odata.Prop(SignInLog.upn, operators={"eq", "startswith", "in"}, lower=True),
        "userId": odata.Prop(SignInLog.user_id, "guid", {"eq", "in"}),
        "appId": odata.Prop(SignInLog.client_id, "guid", {"eq", "in"}),
        "ipAddress": odata.Prop(SignInLog.ip, operators={"eq", "startswith"}),
    },
    order=(SignInLog.created_at.desc(), SignInLog.id),
    needs_consistency_for_search=False,
)
AUDITS = odata.Collection(
    "DirectoryAudit",
    {
        "id": odata.Prop(AuditLog.id, "guid", {"eq"}),
        "activityDateTime": odata.Prop(AuditLog.created_at, "datetime", RANGE, sortable=True),
        "activityDisplayName": odata.Prop(AuditLog.activity, operators={"eq", "startswith", "in"}),
        "initiatedBy/user/id": odata.Prop(AuditLog.actor_id, "guid", {"eq"}),
        "initiatedBy/app/appId": odata.Prop(AuditLog.actor_id, "guid", {"eq"}),
    },
    order=(AuditLog.created_at.desc(), AuditLog.id),
)

#: sign-in log failure reasons (as the flow records them) and Entra's error codes for them
ERROR_CODES = (
    ("account disabled", 50057),
    ("user account is disabled", 50057),
    ("invalid password", 50126),
    ("unknown user", 50034),
    ("locked", 50053),
    ("blocked", 50053),
    ("fraud", 500121),
    ("mfa denied", 500121),
    ("code", 500121),
    ("expired", 50055),
    ("risk", 53004),
)
METHOD_NAMES = {
    "password": "Password",
    "tap": "Temporary Access Pass",
    "oath": "OATH verification code",
    "passkey": "Passkey (device-bound)",
    "email_otp": "Email OTP",
    "home_account": "Home account",
    "phone": "Text message",
    "sms": "Text message",
    "voice": "Phone call",
    "push": "Mobile app notification",
}
CATEGORIES = {
    "User": "UserManagement",
    "Group": "GroupManagement",
    "Application": "ApplicationManagement",
    "ServicePrincipal": "ApplicationManagement",
    "client": "ApplicationManagement",
}


def _error_code(row: SignInLog) -> int:
    if row.result == "success":
        return 0
    reason = (row.failure_reason or "").lower()
    if row.result == "interrupted":
        return 50074
    return next((code for text, code in ERROR_CODES if text in reason), 50000)


def _sign_in_refs(rows) -> dict:
    users = {row.user_id for row in rows if row.user_id}
    clients = {row.client_id for row in rows if row.client_id}
    return {
        "users": dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(users))).all())
        if users
        else {},
        "apps": dict(first_party.NAMES)  # the English names, as Graph's appDisplayName is
        | (
            dict(db.session.execute(select(Client.id, Client.name).where(Client.id.in_(clients))).all())
            if clients
            else {}
        ),
    }


def graph_sign_in(row: SignInLog, refs: dict) -> dict:
    steps = list(row.methods or [])
    ok = row.result == "success"
    details = [
        {
            "authenticationMethod": METHOD_NAMES.get(name, name),
            "succeeded": ok or index < len(steps) - 1,
            "authenticationStepDateTime": clock.iso(row.created_at),
            "authenticationStepResultDetail": "MFA successfully completed"
            if ok and index
            else (
                "Correct password"
                if name == "password" and (ok or index < len(steps) - 1)
                else (row.failure_reason if not ok and index == len(steps) - 1 else None)
            ),
        }
        for index, name in enumerate(steps)
    ]
    multi = len(steps) > 1 or any(s in ("passkey",) for s in steps)
    additional = row.failure_reason if ok else None  # on a success, why MFA was or was not asked
    return {
        "id": row.id,
        "createdDateTime": clock.iso(row.created_at),
        "userId": row.user_id,
        "userPrincipalName": row.upn,
        "userDisplayName": refs["users"].get(row.user_id),
        "appId": row.client_id,
        "appDisplayName": refs["apps"].get(row.client_id),
        "ipAddress": row.ip,
        "clientAppUsed": "Browser",
        "isInteractive": True,
        "status": {
            "errorCode": _error_code(row),
            "failureReason": None if ok else row.failure_reason,
            "additionalDetails": additional,
        },
        "authenticationRequirement": "multiFactorAuthentication" if multi else "singleFactorAuthentication",
        "authenticationDetails": details,
        "mfaDetail": {"authMethod": METHOD_NAMES.get(steps[-1], steps[-1]), "authDetail": None}
        if multi and steps
        else None,
        "conditionalAccessStatus": "notApplied",
        "riskState": "none",
        "riskLevelDuringSignIn": "none",
        "resourceDisplayName": None,
        "resourceId": None,
    }


def _audit_refs(rows) -> dict:
    actors = {row.actor_id for row in rows if row.actor_type == "user" and row.actor_id}
    apps = {row.actor_id for row in rows if row.actor_type == "app" and row.actor_id}
    users_and_targets = actors | {row.target_id for row in rows if row.target_type == "User" and row.target_id}
    users = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(users_and_targets)))}
        if users_and_targets
        else {}
    )
    groups = {row.target_id for row in rows if row.target_type == "Group" and row.target_id}
    return {
        "users": users,
        "apps": dict(db.session.execute(select(Client.id, Client.name).where(Client.id.in_(apps))).all())
        if apps
        else {},
        "groups": dict(db.session.execute(select(Group.id, Group.display_name).where(Group.id.in_(groups))).all())
        if groups
        else {},
    }


def _operation_type(activity: str) -> str:
    first = activity.split(" ", 1)[0].lower()
    return {
        "add": "Add",
        "create": "Add",
        "update": "Update",
        "change": "Update",
        "delete": "Delete",
        "remove": "Delete",
        "revoke": "Update",
        "disable": "Update",
        "enable": "Update",
    }.get(first, "Update")


def _modified(before, after) -> list[dict]:
    before, after = before or {}, after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return [
        {"displayName": key, "oldValue": _json(before.get(key)), "newValue": _json(after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key) and key != "hash"
    ]


def _json(value):
    import json

    return None if value is None else json.dumps(value, default=str)[:1000]


def graph_audit(row: AuditLog, refs: dict) -> dict:
    return {
        "id": row.id,
        "activityDateTime": clock.iso(row.created_at),
        "activityDisplayName": row.activity,
        "category": CATEGORIES.get(
            row.target_type or "", "Policy" if "polic" in row.activity.lower() else "UserManagement"
        ),
        "correlationId": row.id,
        "loggedByService": "Core Directory",
        "operationType": _operation_type(row.activity),
        "result": "success",
        "resultReason": "",
        "initiatedBy": _initiated_by(row, refs),
        "targetResources": _targets(row, refs),
        "additionalDetails": [],
    }


def _initiated_by(row: AuditLog, refs: dict) -> dict:
    if row.actor_type == "user":
        user = refs["users"].get(row.actor_id)
        person = {
            "id": row.actor_id,
            "userPrincipalName": user.upn if user else None,
            "displayName": user.display_name if user else None,
            "ipAddress": None,
        }
        return {"user": person, "app": None}
    if row.actor_type == "app":
        app = {"appId": row.actor_id, "displayName": refs["apps"].get(row.actor_id), "servicePrincipalId": None}
        return {"app": app, "user": None}
    name = "Command line" if row.actor_type == "cli" else "System"
    return {"app": {"appId": None, "displayName": name}, "user": None}


def _targets(row: AuditLog, refs: dict) -> list[dict]:
    if not row.target_id:
        return []
    user = refs["users"].get(row.target_id) if row.target_type == "User" else None
    name = user.display_name if user else refs["groups"].get(row.target_id) if row.target_type == "Group" else None
    return [
        {
            "id": row.target_id,
            "type": row.target_type,
            "displayName": name,
            "userPrincipalName": user.upn if user else None,
            "modifiedProperties": _modified(row.before, row.after),
        }
    ]


def _readers():
    access.require(access.LOG_READ, access.LOG_READ, access.LOG_READERS)


@operation("/auditLogs/signIns", ["GET"], summary="The sign-in log", responses={"200": ("Sign-ins", COLLECTION)})
def list_sign_ins():
    _readers()
    stmt = select(SignInLog).where(SignInLog.tenant_id == current_caller().tenant.id)
    return SIGN_INS.page(stmt, graph_sign_in, odata_context("auditLogs/signIns"), prepare=_sign_in_refs)


@operation(
    "/auditLogs/signIns/{sign_in_id}",
    ["GET"],
    summary="One sign-in",
    responses={"200": ("Sign-in", {"type": "object"})},
)
def get_sign_in(sign_in_id):
    _readers()
    row = db.session.get(SignInLog, sign_in_id[:36])
    if row is None or row.tenant_id != current_caller().tenant.id:
        raise access.not_found(sign_in_id)
    return {"@odata.context": odata_context("auditLogs/signIns/$entity"), **graph_sign_in(row, _sign_in_refs([row]))}


@operation("/auditLogs/directoryAudits", ["GET"], summary="The audit log", responses={"200": ("Audits", COLLECTION)})
def list_directory_audits():
    _readers()
    stmt = select(AuditLog).where(AuditLog.tenant_id == current_caller().tenant.id)
    return AUDITS.page(stmt, graph_audit, odata_context("auditLogs/directoryAudits"), prepare=_audit_refs)


@operation(
    "/auditLogs/directoryAudits/{audit_id}",
    ["GET"],
    summary="One audit entry",
    responses={"200": ("Audit", {"type": "object"})},
)
def get_directory_audit(audit_id):
    _readers()
    row = db.session.get(AuditLog, audit_id[:36])
    if row is None or row.tenant_id != current_caller().tenant.id:
        raise access.not_found(audit_id)
    return {
        "@odata.context": odata_context("auditLogs/directoryAudits/$entity"),
        **graph_audit(row, _audit_refs([row])),
    }
