"""The registry of authentication methods that the flow engine composes.

Filled once by `idp.wiring`; importing a method module never registers it.
"""

from .base import AuthMethod

_methods: dict[str, AuthMethod] = {}
#: all_methods() in order, kept: every sign-in step asks for it many times, and it changes only on register
_in_order: tuple[AuthMethod, ...] = ()


def register(method: AuthMethod) -> AuthMethod:
    global _in_order
    _methods[method.name] = method
    _in_order = tuple(sorted(_methods.values(), key=lambda known: known.order))
    return method


def get(name: str) -> AuthMethod | None:
    return _methods.get(name)


def all_methods() -> list[AuthMethod]:
    return list(_in_order)
