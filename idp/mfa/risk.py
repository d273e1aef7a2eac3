"""User risk from end-user reports: detections, risky users, dismissal, and the optional high-risk block."""

from sqlalchemy import select

from .. import clock
from ..audit.log import client_ip
from ..extensions import db
from . import settings
from .models import MfaUserState, RiskDetection
from .state import ensure

HIGH_RISK_BLOCKED = "Your sign-in was blocked because your account is at high risk. Contact your administrator."


def raise_to_high(user) -> RiskDetection:
    state = ensure(user)
    state.risk_level, state.risk_state, state.risk_updated_at = "high", "atRisk", clock.now()
    detection = RiskDetection(
        tenant_id=user.tenant_id,
        user_id=user.id,
        risk_event_type="userReportedSuspiciousActivity",
        risk_level="high",
        source="End user reported",
        ip_address=client_ip(),
    )
    db.session.add(detection)
    db.session.flush()
    return detection


def dismiss(user) -> bool:
    state = db.session.get(MfaUserState, user.id)
    if state is None or state.risk_state != "atRisk":
        return False
    state.risk_level, state.risk_state, state.risk_updated_at = "none", "dismissed", clock.now()
    return True


def risky_users(tenant_id: str) -> list[MfaUserState]:
    return list(
        db.session.scalars(
            select(MfaUserState)
            .where(MfaUserState.tenant_id == tenant_id, MfaUserState.risk_state != "none")
            .order_by(MfaUserState.risk_updated_at.desc())
        )
    )


def detections(tenant_id: str) -> list[RiskDetection]:
    return list(
        db.session.scalars(
            select(RiskDetection)
            .where(RiskDetection.tenant_id == tenant_id)
            .order_by(RiskDetection.detected_at.desc())
            .limit(500)
        )
    )


def signin_guard(txn, user) -> str | None:
    """Optional tenant rule (off by default): block sign-in for users at high risk."""
    if not settings.get(user.tenant_id, "riskPolicy")["blockSignInForHighRiskUsers"]:
        return None
    state = db.session.get(MfaUserState, user.id)
    return HIGH_RISK_BLOCKED if state and state.risk_state == "atRisk" and state.risk_level == "high" else None
