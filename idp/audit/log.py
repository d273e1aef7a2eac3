from flask import has_request_context, request

from ..extensions import db
from .models import AuditLog, SignInLog


def client_ip() -> str | None:
    """The caller's address; ProxyFix (IDP_TRUSTED_PROXIES) decides how far X-Forwarded-For is believed."""
    return request.remote_addr if has_request_context() else None


def record_signin(*, tenant_id, result, user=None, upn=None, client_id=None, methods=(), failure_reason=None):
    db.session.add(
        SignInLog(
            tenant_id=tenant_id,
            user_id=user.id if user else None,
            upn=user.upn if user else upn,
            client_id=client_id,
            ip=client_ip(),
            methods=list(methods),
            result=result,
            failure_reason=failure_reason,
        )
    )


def record_audit(
    *, tenant_id, actor_id, actor_type, activity, target_type=None, target_id=None, before=None, after=None
):
    db.session.add(
        AuditLog(
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_type=actor_type,
            activity=activity,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    )
