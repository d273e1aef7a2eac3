"""'I didn't try to sign in': the fraud alert and the suspicious-activity report, and who is told."""
from dataclasses import dataclass

from flask import current_app

from .. import clock, mailer
from ..audit import record_audit, record_signin
from ..audit.log import client_ip
from ..directory import service as directory
from ..extensions import db
from . import blocks, risk, settings

DENIED = "MFA denied; fraud code entered"
BLOCKED_ACTIVITY = "Fraud reported - user is blocked for MFA"
NO_ACTION_ACTIVITY = "Fraud reported - no action taken"


@dataclass
class Outcome:
    blocked: bool
    risk_raised: bool
    actions: list


def suspicious_activity_applies(user) -> bool:
    """Report suspicious activity: `default` means Microsoft-managed, which is disabled today."""
    config = settings.get(user.tenant_id, "reportSuspiciousActivity")
    if config["state"] != "enabled":
        return False
    target = config["includeTarget"]["id"]
    return target == "all_users" or target in directory.group_ids_of(user)


def can_report(user) -> bool:
    return settings.get(user.tenant_id, "fraudAlert")["allowUsersToSubmitFraudAlerts"] or suspicious_activity_applies(user)


def report(txn, user) -> Outcome:
    """Deny the pending sign-in, then do what the tenant's settings say."""
    txn.state = "done"
    record_signin(tenant_id=txn.tenant_id, user=user, client_id=txn.client_id, methods=txn.methods_done,
                  result="failure", failure_reason=DENIED)
    fraud = settings.get(user.tenant_id, "fraudAlert")
    blocked = raised = False
    actions = []
    if fraud["allowUsersToSubmitFraudAlerts"]:
        if fraud["blockUserWhenFraudReported"]:
            blocks.block(user, "Fraud reported by the user", "Fraud report")
            blocked = True
            actions.append(f"the user is blocked from MFA for {blocks.BLOCK_DAYS} days")
        record_audit(tenant_id=user.tenant_id, actor_id=user.id, actor_type="user",
                     activity=BLOCKED_ACTIVITY if blocked else NO_ACTION_ACTIVITY, target_type="user", target_id=user.id,
                     after={"ip": client_ip()})
    if suspicious_activity_applies(user):
        if "password" in txn.methods_done:  # a passwordless sign-in's report does not raise the risk
            risk.raise_to_high(user)
            raised = True
            actions.append("the user's risk is set to high")
        record_audit(tenant_id=user.tenant_id, actor_id=user.id, actor_type="user",
                     activity="Suspicious activity reported", target_type="user", target_id=user.id,
                     after={"riskRaised": raised, "ip": client_ip()})
    db.session.commit()
    _notify(user, actions or ["no action was taken"])
    db.session.commit()  # the development outbox, when no SMTP server is configured
    return Outcome(blocked, raised, actions)


def _notify(user, actions: list) -> None:
    recipients = settings.get(user.tenant_id, "notifications")["recipients"]
    body = (f"{user.display_name} <{user.upn}> reported that they did not try to sign in.\n\n"
            f"When: {clock.iso(clock.now())}\nFrom IP address: {client_ip() or 'unknown'}\n"
            f"Action taken: {'; '.join(actions)}.\n")
    for recipient in recipients:
        try:
            mailer.send(recipient, f"Fraud alert: {user.upn}", body)
        except mailer.MailError as error:  # the report itself stands; the failed notice is logged
            current_app.logger.warning("fraud alert notification to %s failed: %s", recipient, error)
