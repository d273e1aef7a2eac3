"""The user's default sign-in method (Entra's "Change default sign-in method"; Graph's signInPreferences). The
MFA step offers it first when it is still registered and allowed; otherwise the usual order applies."""

from types import SimpleNamespace

from .. import methods
from ..directory.models import User
from ..methods.base import AuthMethod, MethodContext

#: method name -> Graph's userDefaultAuthenticationMethodType (the methods Entra lets a user make the default)
GRAPH_NAMES = {"push": "push", "oath": "oath", "sms": "sms", "voice": "voiceMobile"}
METHOD_OF_GRAPH_NAME = {graph: name for name, graph in GRAPH_NAMES.items()}


def _allowed(user: User, method: AuthMethod) -> bool:
    from . import flow

    ctx = MethodContext(user=user, tenant_id=user.tenant_id)
    stand_in = SimpleNamespace(tenant_id=user.tenant_id, user=user, data={}, methods_done=[])
    return method.is_available(ctx) and all(rule(stand_in, method) for rule in flow.availability_rules)


def candidates(user: User) -> list[AuthMethod]:
    """The methods this user may make their default: registered, allowed by policy now, and second factors."""
    return [m for m in methods.all_methods() if m.name in GRAPH_NAMES and m.second_factor and _allowed(user, m)]


def default_method(user: User) -> AuthMethod | None:
    """The user's default, while it is still one of the candidates."""
    chosen = user.preferred_mfa_method
    return next((m for m in candidates(user) if m.name == chosen), None) if chosen else None


def set_default(user: User, name: str) -> bool:
    """Make `name` the default (the caller commits). False when it is not a candidate."""
    if name not in {m.name for m in candidates(user)}:
        return False
    user.preferred_mfa_method = name
    return True
