"""Phone rules: the user's numbers, text-message codes (6 digits, 180 seconds, three tries, one live code),
and what the policy and the MFA settings let each user use."""

import secrets
from datetime import timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import func, select, update

from ...errors import ServiceError
from ... import clock, crypto, mailer, telephony
from ...directory.models import User
from ...extensions import db
from ...policy import service as policy
from . import numbers
from .models import PhoneCode, PhoneMethod
from .policy import SMS, VOICE
from ...i18n.names import Message, N_

TYPES = ("mobile", "alternateMobile", "office")
#: Graph's fixed ids of the three phone methods
GRAPH_IDS = {
    "mobile": "3179e48a-750b-4051-897c-87b9720928f7",
    "alternateMobile": "b6332ec1-7057-4abe-9331-3d72feddfe41",
    "office": "e37fc753-ff3b-4958-9484-eaa9425c82bc",
}
TYPE_OF_ID = {v: k for k, v in GRAPH_IDS.items()}
CODE_LIFETIME = timedelta(seconds=180)  # Entra's text-message code lifetime; not configurable there either
MAX_ATTEMPTS = 3
SENDS_PER_WINDOW, SEND_WINDOW = 5, timedelta(minutes=15)
PURPOSE = "phone-code"


#: the phone-methods API's error codes by status (Graph's authentication-methods spelling)
_CODES = {400: "badRequest", 404: "itemNotFound", 409: "conflict", 429: "tooManyRequests", 503: "serviceUnavailable"}


class PhoneError(ServiceError):
    """A refused phone-method request or a call/text the provider did not take."""

    @property  # type: ignore[override]
    def code(self) -> str | None:
        return _CODES.get(self.status)


# --- numbers -----------------------------------------------------------------------------------------


def phones_of(user_id: str) -> dict[str, PhoneMethod]:
    rows = db.session.scalars(select(PhoneMethod).where(PhoneMethod.user_id == user_id))
    return {row.phone_type: row for row in rows}


def check_type(phone_type) -> str:
    if phone_type not in TYPES:
        raise PhoneError(N_("Property 'phoneType' must be 'mobile', 'alternateMobile' or 'office'."))
    return phone_type


def add(user: User, phone_type: str, text: str) -> PhoneMethod:
    """Register a number (already proven, or set by an administrator)."""
    check_type(phone_type)
    number, extension = parse_number(text, phone_type)
    phones = phones_of(user.id)
    if user.is_external_guest:
        raise PhoneError(N_("External guests cannot register a phone in this organization."))
    if phone_type in phones:
        raise PhoneError(Message(N_("The user already has a %(type)s phone; update it instead."), type=phone_type), 409)
    if phone_type == "alternateMobile" and "mobile" not in phones:
        raise PhoneError(N_("Add a mobile phone before an alternate mobile phone."))
    row = PhoneMethod(
        tenant_id=user.tenant_id, user_id=user.id, phone_type=phone_type, number=number, extension=extension
    )
    db.session.add(row)
    db.session.flush()
    return row


def parse_number(text, phone_type: str) -> tuple[str, str | None]:
    try:
        number, extension = numbers.parse(text)
    except numbers.NumberError as error:
        raise PhoneError(error.args[0]) from None  # its Message: pages translate it
    if extension and phone_type != "office":
        raise PhoneError(N_("Only an office phone can have an extension."))
    return number, extension


def change_number(row: PhoneMethod, text: str) -> None:
    row.number, row.extension = parse_number(text, row.phone_type)
    db.session.flush()


def remove(row: PhoneMethod) -> None:
    """Delete a phone. The mobile phone goes only after the alternate one (Graph's rule)."""
    if row.phone_type == "mobile" and "alternateMobile" in phones_of(row.user_id):
        raise PhoneError(N_("Delete the alternate mobile phone before the mobile phone."))
    db.session.delete(row)
    db.session.flush()


# --- what the user may use -----------------------------------------------------------------------------


def sms_allowed(user: User) -> bool:
    return policy.applies_to(user.tenant_id, SMS.method_id, user)


def voice_allowed(user: User) -> bool:
    return policy.applies_to(user.tenant_id, VOICE.method_id, user)


def sms_phone(user: User) -> PhoneMethod | None:
    """Text messages go to the mobile phone only."""
    return phones_of(user.id).get("mobile") if sms_allowed(user) else None


def voice_phones(user: User) -> list[PhoneMethod]:
    if not voice_allowed(user):
        return []
    office = policy.get(user.tenant_id, VOICE.method_id).settings["isOfficePhoneAllowed"]
    phones = phones_of(user.id)
    return [phones[t] for t in TYPES if t in phones and (t != "office" or office)]


def sms_sign_in_state(user: User, row: PhoneMethod) -> str:
    """Graph's smsSignInState of a phone."""
    if row.phone_type != "mobile":
        return "notSupported"
    config = policy.get(user.tenant_id, SMS.method_id)
    if not policy.targets(config, user) or not any(t.get("isUsableForSignIn", True) for t in config.include_targets):
        return "notAllowedByPolicy"
    return "ready" if row.sms_sign_in else "notEnabled"


# --- text-message codes --------------------------------------------------------------------------------


def code_text(user: User, code: str) -> str:
    """The text message, in the user's preferred language, else the sign-in page's; the code stands alone
    as six digits in every language (autofill and the tests find it)."""
    with force_locale(mailer.recipient_language(user.preferred_language)):
        return gettext(
            "Use verification code %(code)s for %(organization)s authentication.",
            code=code,
            organization=user.tenant.display_name,
        )


def send_code(user: User, purpose: str, number: str, phone_type: str, extension: str | None = None) -> None:
    """Void the live code of this purpose, make a new one and text it. Nothing changes when sending fails."""
    now = clock.now()
    recent = db.session.scalar(
        select(func.count())
        .select_from(PhoneCode)
        .where(PhoneCode.user_id == user.id, PhoneCode.created_at > now - SEND_WINDOW)
    )
    if recent >= SENDS_PER_WINDOW:
        raise PhoneError(N_("Too many codes were requested. Wait 15 minutes, then ask for a new one."), 429)
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.execute(
        update(PhoneCode)
        .where(
            PhoneCode.user_id == user.id,
            PhoneCode.purpose == purpose,
            PhoneCode.used_at.is_(None),
            PhoneCode.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    db.session.add(
        PhoneCode(
            tenant_id=user.tenant_id,
            user_id=user.id,
            purpose=purpose,
            number=number,
            phone_type=phone_type,
            extension=extension,
            code_hash=crypto.keyed_digest(code, PURPOSE),
            expires_at=now + CODE_LIFETIME,
        )
    )
    try:
        telephony.provider().send_sms(number, code_text(user, code))
    except telephony.TelephonyError as error:
        db.session.rollback()
        raise PhoneError(
            Message(
                N_("We couldn't send the text message: %(error)s Try again in a moment."), error=Message(error.args[0])
            ),
            503,
        ) from None
    db.session.commit()


def verify_code(user: User, purpose: str, code: str) -> PhoneCode | str:
    """The code row when `code` is right (consumed exactly once), else the message for the user."""
    live = db.session.scalar(
        select(PhoneCode)
        .where(
            PhoneCode.user_id == user.id,
            PhoneCode.purpose == purpose,
            PhoneCode.voided_at.is_(None),
            PhoneCode.used_at.is_(None),
        )
        .order_by(PhoneCode.created_at.desc())
        .limit(1)
    )
    if live is None:
        return N_("Send yourself a new code first.")
    if clock.now() >= live.expires_at:
        return N_("That code has expired. Send yourself a new code.")
    before = live.attempts
    tried = db.session.execute(
        update(PhoneCode)
        .where(PhoneCode.id == live.id, PhoneCode.attempts < MAX_ATTEMPTS)
        .values(attempts=PhoneCode.attempts + 1)
    ).rowcount
    db.session.commit()
    if tried != 1:
        return N_("Too many wrong codes. Send yourself a new code.")
    if not (code.isdigit() and len(code) == 6 and crypto.keyed_verify(live.code_hash, code, PURPOSE)):
        if before + 1 >= MAX_ATTEMPTS:
            db.session.execute(update(PhoneCode).where(PhoneCode.id == live.id).values(voided_at=clock.now()))
            db.session.commit()
            return N_("Too many wrong codes. Send yourself a new code.")
        return N_("That code is not correct. Check the latest text message we sent and try again.")
    claimed = db.session.execute(
        update(PhoneCode)
        .where(PhoneCode.id == live.id, PhoneCode.used_at.is_(None), PhoneCode.voided_at.is_(None))
        .values(used_at=clock.now())
    ).rowcount
    db.session.commit()
    return live if claimed == 1 else N_("That code was already used. Send yourself a new code.")


def has_live_code(user: User, purpose: str) -> bool:
    return (
        db.session.scalar(
            select(PhoneCode.id)
            .where(
                PhoneCode.user_id == user.id,
                PhoneCode.purpose == purpose,
                PhoneCode.used_at.is_(None),
                PhoneCode.voided_at.is_(None),
                PhoneCode.expires_at > clock.now(),
            )
            .limit(1)
        )
        is not None
    )


def touch(user: User, phone_type: str) -> None:
    db.session.execute(
        update(PhoneMethod)
        .where(PhoneMethod.user_id == user.id, PhoneMethod.phone_type == phone_type)
        .values(last_used_at=clock.now())
    )
