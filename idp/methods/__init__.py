"""Authentication methods: the interface (base.py), the registry (registry.py) and one slice per method.

Nothing here registers anything: `idp.wiring` lists every slice and what it contributes.
"""

from .base import AuthMethod, MethodContext, Verification
from .registry import all_methods, get, register

__all__ = ["AuthMethod", "MethodContext", "Verification", "register", "get", "all_methods"]
