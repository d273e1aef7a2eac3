"""Graph (beta): /users/{id}/authentication/signInPreferences, the user's default MFA method. System-preferred
MFA is not implemented: the user's own choice always applies, so isSystemPreferredAuthenticationMethodEnabled
reads false and cannot be switched on."""

from flask import request

from ..extensions import db
from ..methods import rbac
from ..signin import preferences
from ..kit.graph import audit, bad_request, current_caller, odata_context, operation, read_json, target_user

PATH = "/users/{user_ref}/authentication/signInPreferences"
SCHEMA = {
    "type": "object",
    "properties": {
        "isSystemPreferredAuthenticationMethodEnabled": {"type": "boolean"},
        "userPreferredMethodForSecondaryAuthentication": {"type": ["string", "null"]},
        "systemPreferredAuthenticationMethod": {"type": ["string", "null"]},
    },
}


def _authorized(user_ref: str, action: str):
    if not request.path.startswith("/beta/"):
        raise bad_request("Resource not found for the segment 'signInPreferences'.")
    user = target_user(user_ref)
    rbac.authorize(current_caller(), user, action, self_service=True)
    return user


def _preferences(user) -> dict:
    chosen = preferences.default_method(user)
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/signInPreferences"),
        "@odata.type": "#microsoft.graph.signInPreferences",
        "isSystemPreferredAuthenticationMethodEnabled": False,
        "userPreferredMethodForSecondaryAuthentication": preferences.GRAPH_NAMES[chosen.name] if chosen else None,
        "systemPreferredAuthenticationMethod": None,
    }


@operation(PATH, ["GET"], summary="Get the user's sign-in preferences (beta)", responses={"200": ("Prefs", SCHEMA)})
def get_signin_preferences(user_ref):
    return _preferences(_authorized(user_ref, "read"))


@operation(PATH, ["PATCH"], summary="Set the user's default MFA method (beta)", body=SCHEMA)
def update_signin_preferences(user_ref):
    user = _authorized(user_ref, "update")
    body = read_json()
    if body.get("isSystemPreferredAuthenticationMethodEnabled"):
        raise bad_request("System-preferred multifactor authentication is not supported by this service.")
    if "userPreferredMethodForSecondaryAuthentication" in body:
        wanted = body["userPreferredMethodForSecondaryAuthentication"]
        name = preferences.METHOD_OF_GRAPH_NAME.get(wanted or "")
        if name is None or not preferences.set_default(user, name):
            raise bad_request(
                f"Invalid value '{str(wanted)[:32]}' for userPreferredMethodForSecondaryAuthentication: "
                "the user has no such method registered and allowed."
            )
        audit("Update user sign-in preferences", "User", user.id, after={"default": wanted})
    db.session.commit()
    return _preferences(user)
