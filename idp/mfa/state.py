"""The per-user MFA state row, created on first need (safely when two processes race to create it)."""

from flask import g, has_request_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from ..claims_once import insert_unless_present
from ..extensions import db
from .models import MfaUserState


def ensure(user) -> MfaUserState:
    row = db.session.get(MfaUserState, user.id)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(MfaUserState(user_id=user.id, tenant_id=user.tenant_id))
        except IntegrityError:
            pass  # another request created it first
        db.session.commit()
        row = db.session.get(MfaUserState, user.id)
    if has_request_context():
        g.setdefault("mfa_state_exists", set()).add(user.id)
    return row


def ensure_exists(user) -> None:
    """For callers that only UPDATE the row: it exists afterwards, for at most one statement per request."""
    known = g.setdefault("mfa_state_exists", set()) if has_request_context() else set()
    if user.id in known:
        return
    if db.session.identity_map.get(identity_key(MfaUserState, user.id)) is None:  # not loaded: make sure
        insert_unless_present(MfaUserState, ["user_id"], user_id=user.id, tenant_id=user.tenant_id)
    known.add(user.id)
