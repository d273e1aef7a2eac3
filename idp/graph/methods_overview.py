"""Every authentication method of a user in one list (`/users/{id}/authentication/methods`, each with its
`@odata.type`), `passwordMethods`, `emailMethods` for guests, and the tenant's registration report
(`/reports/authenticationMethods/userRegistrationDetails`). The method slices contribute their listers
through the wiring; this shell knows none of them."""

from sqlalchemy import select

from .. import clock
from ..directory.models import User
from ..extensions import db
from ..methods import rbac
from ..directory.models import Roles
from . import access, odata
from ..kit.graph import current_caller, odata_context, operation
from .users import COLLECTION, directory_user

#: callables (user) -> [Graph method dicts with "@odata.type"], one per slice (filled by the wiring)
listers: list = []
PASSWORD_ID = "28c10230-6103-485e-b985-444c60001490"  # Graph's fixed id of the password method
#: @odata.type -> methodsRegistered name, as the registration report names them
REGISTERED = {
    "#microsoft.graph.passwordAuthenticationMethod": "password",
    "#microsoft.graph.emailAuthenticationMethod": "email",
    "#microsoft.graph.temporaryAccessPassAuthenticationMethod": "temporaryAccessPass",
    "#microsoft.graph.softwareOathAuthenticationMethod": "softwareOneTimePasscode",
    "#microsoft.graph.hardwareOathAuthenticationMethod": "hardwareOneTimePasscode",
    "#microsoft.graph.fido2AuthenticationMethod": "passKeyDeviceBound",
    "#microsoft.graph.phoneAuthenticationMethod": "mobilePhone",
}
MFA = {"softwareOneTimePasscode", "hardwareOneTimePasscode", "passKeyDeviceBound", "mobilePhone", "email"}
PASSWORDLESS = {"passKeyDeviceBound"}
REPORT_READERS = {"AuditLog.Read.All", "UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}


def password_method(user: User) -> list[dict]:
    if not user.password_hash:
        return []
    return [
        {
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            "id": PASSWORD_ID,
            "password": None,
            "createdDateTime": clock.iso(user.created_at),
        }
    ]


def email_method(user: User) -> list[dict]:
    """An external guest's one-time-passcode address (members' mail is not an authentication method here)."""
    if not user.is_external_guest or not user.mail:
        return []
    return [
        {
            "@odata.type": "#microsoft.graph.emailAuthenticationMethod",
            "id": "3ddfcfc8-9383-446f-83cc-3ab9be4be18f",
            "emailAddress": user.mail,
        }
    ]


def methods_of(user: User) -> list[dict]:
    found = password_method(user) + email_method(user)
    for lister in listers:
        found.extend(lister(user))
    return found


def _authorized(user_ref: str) -> User:
    user = directory_user(user_ref)
    rbac.authorize(current_caller(), user, "read")
    return user


@operation(
    "/users/{user_ref}/authentication/methods",
    ["GET"],
    summary="Every authentication method of the user",
    responses={"200": ("Methods", COLLECTION)},
)
def list_methods(user_ref):
    user = _authorized(user_ref)
    return {"@odata.context": odata_context(f"users('{user.id}')/authentication/methods"), "value": methods_of(user)}


@operation(
    "/users/{user_ref}/authentication/passwordMethods",
    ["GET"],
    summary="The user's password method",
    responses={"200": ("Methods", COLLECTION)},
)
def list_password_methods(user_ref):
    user = _authorized(user_ref)
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/passwordMethods"),
        "value": password_method(user),
    }


@operation(
    "/users/{user_ref}/authentication/emailMethods",
    ["GET"],
    summary="A guest's email one-time passcode address",
    responses={"200": ("Methods", COLLECTION)},
)
def list_email_methods(user_ref):
    user = _authorized(user_ref)
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/emailMethods"),
        "value": email_method(user),
    }


REGISTRATIONS = odata.Collection(
    "UserRegistrationDetails",
    {
        "id": odata.Prop(User.id, "guid", {"eq", "in"}),
        "userPrincipalName": odata.Prop(User.upn, operators={"eq", "startswith", "in"}, sortable=True, lower=True),
        "userDisplayName": odata.Prop(User.display_name, operators={"eq", "startswith"}, sortable=True),
        "userType": odata.Prop(User.user_type, operators={"eq"}),
    },
    order=(User.upn, User.id),
    needs_consistency_for_search=False,
)


def registration(user: User) -> dict:
    registered = sorted({REGISTERED[m["@odata.type"]] for m in methods_of(user) if m["@odata.type"] in REGISTERED})
    return {
        "id": user.id,
        "userPrincipalName": user.upn,
        "userDisplayName": user.display_name,
        "userType": user.user_type.lower(),
        "isAdmin": user.is_admin,
        "methodsRegistered": registered,
        "isMfaRegistered": bool(MFA & set(registered)),
        "isMfaCapable": bool(MFA & set(registered)),
        "isPasswordlessCapable": bool(PASSWORDLESS & set(registered)),
        "isSsprRegistered": False,
        "isSsprEnabled": False,
        "isSsprCapable": False,
        "defaultMfaMethod": "none",
        "lastUpdatedDateTime": clock.iso(clock.now()),
    }


@operation(
    "/reports/authenticationMethods/userRegistrationDetails",
    ["GET"],
    summary="Who registered which authentication methods",
    responses={"200": ("Report", COLLECTION)},
)
def user_registration_details():
    access.require(REPORT_READERS, REPORT_READERS, access.LOG_READERS | {Roles.AUTH_ADMIN, Roles.PRIVILEGED_AUTH_ADMIN})
    stmt = select(User).where(User.tenant_id == current_caller().tenant.id)
    return REGISTRATIONS.page(
        stmt, registration, odata_context("reports/authenticationMethods/userRegistrationDetails")
    )


@operation(
    "/reports/authenticationMethods/userRegistrationDetails/{user_id}",
    ["GET"],
    summary="One user's registered authentication methods",
    responses={"200": ("Registration", {"type": "object"})},
)
def user_registration_detail(user_id):
    access.require(REPORT_READERS, REPORT_READERS, access.LOG_READERS | {Roles.AUTH_ADMIN, Roles.PRIVILEGED_AUTH_ADMIN})
    tenant_id = current_caller().tenant.id
    user = db.session.scalar(select(User).where(User.id == user_id[:36].lower(), User.tenant_id == tenant_id))
    if user is None:
        raise access.not_found(user_id)
    context = odata_context("reports/authenticationMethods/userRegistrationDetails/$entity")
    return {"@odata.context": context, **registration(user)}
