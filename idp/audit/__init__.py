"""Sign-in log and audit log."""

from .log import record_audit, record_signin

__all__ = ["record_audit", "record_signin"]
