"""'I didn't try to sign in': the fraud alert and the suspicious-activity report, and who is told."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from .. import clock, mailer
from ..audit import record_audit
from ..signin import flow
from ..audit.log import client_ip
from ..directory import service as directory
from ..extensions import db
from . import blocks, risk, settings
from ..i18n.names import N_

DENIED = N_("MFA denied; fraud code entered")
BLOCKED_ACTIVITY = "Fraud reported - user is blocked for MFA"
NO_ACTION_ACTIVITY = "Fraud reported - no action taken"


@dataclass
class Outcome:
    blocked: bool
    risk_raised: bool
    actions: list
    notified: bool = False  # an administrator was mailed (the page says so only then)


def suspicious_activity_applies(user) -> bool:
    """Report suspicious activity: `default` means Microsoft-managed, which is disabled today."""
    config = settings.get(user.tenant_id, "reportSuspiciousActivity")
    if config["state"] != "enabled":
        return False
    target = config["includeTarget"]["id"]
    return target == "all_users" or target in directory.group_ids_of(user)


def may_report(txn) -> bool:
    """An in-page report needs a sign-in that has passed a first factor for its user (a password, a TAP...):
    before that, anyone who typed the name could file it."""
    return txn.user_id is not None and bool(txn.methods_done)


def can_report(user) -> bool:
    return settings.get(user.tenant_id, "fraudAlert")["allowUsersToSubmitFraudAlerts"] or suspicious_activity_applies(
        user
    )


def report(txn, user) -> Outcome:
    """Deny the pending sign-in, then do what the tenant's settings say."""
    flow.deny(txn, DENIED, user)
    fraud = settings.get(user.tenant_id, "fraudAlert")
    blocked = raised = False
    actions = []
    if fraud["allowUsersToSubmitFraudAlerts"]:
        if fraud["blockUserWhenFraudReported"]:
            try:
                blocks.block(user, "Fraud reported by the user", "Fraud report")
            except blocks.AlreadyBlocked:
                pass  # blocked already: the block stands
            blocked = True
            actions.append(f"the user is blocked from MFA for {blocks.BLOCK_DAYS} days")
        record_audit(
            tenant_id=user.tenant_id,
            actor_id=user.id,
            actor_type="user",
            activity=BLOCKED_ACTIVITY if blocked else NO_ACTION_ACTIVITY,
            target_type="user",
            target_id=user.id,
            after={"ip": client_ip()},
        )
    if suspicious_activity_applies(user):
        if "password" in txn.methods_done:  # a passwordless sign-in's report does not raise the risk
            risk.raise_to_high(user)
            raised = True
            actions.append("the user's risk is set to high")
        record_audit(
            tenant_id=user.tenant_id,
            actor_id=user.id,
            actor_type="user",
            activity="Suspicious activity reported",
            target_type="user",
            target_id=user.id,
            after={"riskRaised": raised, "ip": client_ip()},
        )
    db.session.commit()
    notified = _notify(user, blocked, raised)
    outcome = Outcome(blocked, raised, actions, notified)
    # kept with the ended sign-in, so that reopening its page shows the report instead of a time-out
    txn.reported = {"blocked": blocked, "notified": notified}
    db.session.commit()  # with the development outbox, when no SMTP server is configured
    return outcome


def _notify(user, blocked: bool, raised: bool) -> bool:
    """Mail the tenant's recipients, each in their own language; whether at least one message went out."""
    recipients = settings.get(user.tenant_id, "notifications")["recipients"]
    when, address = clock.iso(clock.now()), client_ip()

    def compose() -> tuple[str, str]:
        actions = [_("the user is blocked from MFA for %(num)d days", num=blocks.BLOCK_DAYS)] if blocked else []
        actions += [_("the user's risk is set to high")] if raised else []
        taken = "; ".join(actions) if actions else _("no action was taken")
        unknown = _("unknown")
        lines = [
            _("%(name)s <%(upn)s> reported that they did not try to sign in.", name=user.display_name, upn=user.upn),
            "\n".join(
                [
                    _("When: %(time)s", time=when),
                    _("From IP address: %(ip)s", ip=address or unknown),
                    _("Action taken: %(actions)s.", actions=taken),
                ]
            ),
        ]
        return _("Fraud alert: %(upn)s", upn=user.upn), "\n\n".join(lines) + "\n"

    sent = False
    for recipient in recipients:
        try:
            mailer.send_in(_language_of(user.tenant_id, recipient), recipient, compose)
            sent = True
        except mailer.MailError as error:  # the report itself stands; the failed notice is logged
            current_app.logger.warning("fraud alert notification to %s failed: %s", recipient, error)
    return sent


def _language_of(tenant_id: str, address: str) -> str:
    """A recipient who is a user of the tenant gets their preferredLanguage; anyone else English (the page
    that caused the alert is the reporting user's, not theirs)."""
    from ..directory.models import User
    from sqlalchemy import func, or_, select

    found = db.session.scalars(
        select(User.preferred_language).where(
            User.tenant_id == tenant_id, or_(func.lower(User.mail) == address.lower(), User.upn == address.lower())
        )
    ).first()
    return mailer.recipient_language(found, page_language=False)
