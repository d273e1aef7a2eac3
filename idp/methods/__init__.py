"""Authentication methods. Each method module registers itself here; the flow asks the registry."""
from .base import AuthMethod, MethodContext, Verification

_registry: dict[str, AuthMethod] = {}


def register(method: AuthMethod) -> AuthMethod:
    _registry[method.name] = method
    return method


def get(name: str) -> AuthMethod | None:
    return _registry.get(name)


def all_methods() -> list[AuthMethod]:
    return sorted(_registry.values(), key=lambda method: method.order)


def load_builtin() -> None:
    """Import the method modules so they register (called once by create_app)."""
    from . import email_otp, oath, passkey, password, tap  # noqa: F401


__all__ = ["AuthMethod", "MethodContext", "Verification", "register", "get", "all_methods", "load_builtin"]
