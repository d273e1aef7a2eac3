"""Sign-in log and audit log."""

from .log import record_admin_change, record_audit, record_signin

__all__ = ["record_admin_change", "record_audit", "record_signin"]
