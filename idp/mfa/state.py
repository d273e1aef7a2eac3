"""The per-user MFA state row, created on first need (safely when two processes race to create it)."""
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .models import MfaUserState


def ensure(user) -> MfaUserState:
    row = db.session.get(MfaUserState, user.id)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            db.session.add(MfaUserState(user_id=user.id, tenant_id=user.tenant_id))
    except IntegrityError:
        pass  # another request created it first
    db.session.commit()
    return db.session.get(MfaUserState, user.id)
