"""The registry of authentication methods that the flow engine composes.

Filled once by `idp.wiring`; importing a method module never registers it.
"""

from .base import AuthMethod

_methods: dict[str, AuthMethod] = {}


def register(method: AuthMethod) -> AuthMethod:
    _methods[method.name] = method
    return method


def get(name: str) -> AuthMethod | None:
    return _methods.get(name)


def all_methods() -> list[AuthMethod]:
    return sorted(_methods.values(), key=lambda method: method.order)
