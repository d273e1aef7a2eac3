from flask import g, has_request_context, request

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


def record_admin_change(activity, target_type=None, target_id=None, before=None, after=None, tenant_id=None):
    """Record a change with the actor the context names (committed with the change): the Graph or console
    caller (g.caller), else the user signed in to a self-service page, else, outside any request, the command
    line. tenant_id defaults to the caller's or the page's tenant."""
    actor_id, actor_type, context_tenant_id = _actor()
    record_audit(
        tenant_id=tenant_id or context_tenant_id,
        actor_id=actor_id,
        actor_type=actor_type,
        activity=activity,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
    )


def _actor() -> tuple[str | None, str, str | None]:
    if not has_request_context():
        return None, "cli", None
    caller = g.get("caller")
    if caller is not None:
        return (*caller.actor, caller.tenant.id)
    sso = g.get("sso")
    if sso is None:  # a page that changes something without a signed-in user is a bug, not an anonymous entry
        raise RuntimeError("an audited change needs a signed-in caller")
    return sso.user.id, "user", g.tenant.id
