"""Email one-time passcodes: 8 digits from a CSPRNG, keyed hashes, 30 minutes, once, five tries, one live code."""

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import func, select, update

from ...errors import ServiceError
from ... import clock, crypto, mailer, urls
from ...claims_once import claim_once
from ...directory import service as directory
from ...directory.models import User, new_id
from ...extensions import db
from ...policy import service as policy
from .models import EmailOtpCode
from .policy import CONFIG
from ...i18n.names import N_

CODE_LIFETIME = timedelta(minutes=30)
GUEST_SESSION = timedelta(hours=24)
MAX_ATTEMPTS = 5
SENDS_PER_WINDOW, SEND_WINDOW = 5, timedelta(minutes=15)
PURPOSE = "email-otp"


class OtpError(ServiceError):
    """A refused one-time passcode request."""


def setting(tenant_id: str) -> str:
    return policy.get(tenant_id, CONFIG.method_id).settings["allowExternalIdToUseEmailOtp"]


def uses_email_otp(guest: User) -> bool:
    """Which guests sign in with email OTP: those who redeemed with it (until an admin resets them), and
    unredeemed ones without a home account on this server."""
    if not guest.is_external_guest:
        return False
    if guest.redemption_method == "email_otp":
        return True
    return guest.redemption_method is None and directory.home_account(guest) is None


def refusal(guest: User) -> str | None:
    if setting(guest.tenant_id) == "disabled":
        if guest.redemption_method == "email_otp":
            return N_(
                "This organization has turned off sign-in with one-time passcodes, which is how you joined. "
                "Ask its administrator to turn it back on or to reset your invitation."
            )
        return N_("This organization does not allow guests to sign in with a one-time passcode.")
    return None


def send_code(guest: User, inviter: str | None) -> None:
    """Void the live code, make a new one and mail it. When the mail cannot be sent nothing changes."""
    address = guest.mail
    window_start = clock.now() - SEND_WINDOW
    recent = db.session.scalar(
        select(func.count())
        .select_from(EmailOtpCode)
        .where(EmailOtpCode.address == address, EmailOtpCode.created_at > window_start)
    )
    if recent >= SENDS_PER_WINDOW:
        raise OtpError(N_("Too many codes were requested for this address. Wait 15 minutes, then ask for a new one."))
    code = f"{secrets.randbelow(10**8):08d}"
    now = clock.now()
    db.session.execute(
        update(EmailOtpCode)
        .where(EmailOtpCode.user_id == guest.id, EmailOtpCode.used_at.is_(None), EmailOtpCode.voided_at.is_(None))
        .values(voided_at=now)
    )
    row = EmailOtpCode(
        id=new_id(),
        tenant_id=guest.tenant_id,
        user_id=guest.id,
        address=address,
        code_hash=crypto.keyed_digest(code, PURPOSE),
        expires_at=now + CODE_LIFETIME,
    )
    db.session.add(row)
    report = urls.external_url(
        "guests.report", tenant=guest.tenant_id, r=_report_serializer().dumps({"u": guest.id, "c": row.id})
    )
    tenant_name = guest.tenant.display_name

    def compose() -> tuple[str, str]:
        lines = [
            _("Your account verification code for %(tenant)s is:", tenant=tenant_name),
            f"    {code}",
            _("It expires in 30 minutes.")
            + (" " + _("You were invited by %(inviter)s.", inviter=inviter) if inviter else ""),
            _("If you didn't try to sign in, report it: %(link)s", link=report),
        ]
        return _("%(tenant)s account verification code", tenant=tenant_name), "\n\n".join(lines) + "\n"

    try:
        mailer.send_in(mailer.recipient_language(guest.preferred_language), address, compose)
    except mailer.MailError:
        db.session.rollback()  # neither the new code nor the voiding of the old one is kept
        raise OtpError(N_("We couldn't send the code. Try again in a moment.")) from None
    db.session.commit()


def _report_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="email-otp-report-link")


def redeem_report_link(token: str, tenant_id: str) -> User | None:
    """The "report it" link of one code e-mail: signed, valid as long as its code, and used once (the claim is
    one conditional UPDATE, which also voids the code). Returns the guest it names, or None."""
    try:
        data = _report_serializer().loads(token or "")
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("c"), str):
        return None
    now = clock.now()
    claimed = claim_once(
        EmailOtpCode,
        EmailOtpCode.id == data["c"],
        EmailOtpCode.user_id == data["u"],
        EmailOtpCode.tenant_id == tenant_id,
        EmailOtpCode.expires_at > now,
        EmailOtpCode.reported_at.is_(None),
        reported_at=now,
        voided_at=func.coalesce(EmailOtpCode.voided_at, now),
    )
    db.session.commit()
    return db.session.get(User, data["u"]) if claimed else None


def verify(guest: User, code: str) -> str | None:
    """None when the code signs in (consumed exactly once), else the message for the guest."""
    live = db.session.scalar(
        select(EmailOtpCode)
        .where(EmailOtpCode.user_id == guest.id, EmailOtpCode.voided_at.is_(None), EmailOtpCode.used_at.is_(None))
        .order_by(EmailOtpCode.created_at.desc())
        .limit(1)
    )
    if live is None:
        return N_("Send yourself a new code first.")
    if clock.now() >= live.expires_at:
        return N_("That code has expired. Send yourself a new code.")
    code_id, before = live.id, live.attempts  # the row is re-read after the commit below
    tried = db.session.execute(
        update(EmailOtpCode)
        .where(EmailOtpCode.id == live.id, EmailOtpCode.attempts < MAX_ATTEMPTS)
        .values(attempts=EmailOtpCode.attempts + 1)
    ).rowcount
    db.session.commit()
    if tried != 1:
        return N_("Too many wrong codes. Send yourself a new code.")
    if not (code.isdigit() and len(code) == 8 and crypto.keyed_verify(live.code_hash, code, PURPOSE)):
        if before + 1 >= MAX_ATTEMPTS:
            db.session.execute(update(EmailOtpCode).where(EmailOtpCode.id == code_id).values(voided_at=clock.now()))
            db.session.commit()
            return N_("Too many wrong codes. Send yourself a new code.")
        return N_("That code is not correct. Check the latest message we sent and try again.")
    claimed = claim_once(
        EmailOtpCode,
        EmailOtpCode.id == code_id,
        EmailOtpCode.used_at.is_(None),
        EmailOtpCode.voided_at.is_(None),
        used_at=clock.now(),
    )
    db.session.commit()
    return None if claimed else N_("That code was already used. Send yourself a new code.")


def redeem(guest: User, method: str) -> None:
    if guest.external_user_state != "Accepted":
        guest.external_user_state, guest.redemption_method, guest.redeemed_at = "Accepted", method, clock.now()
        db.session.flush()
