"""Temporary Access Pass rules: who may manage whose pass, creation under policy, usability, sign-in."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update

from ...audit import reasons
from ...errors import ServiceError
from ... import clock, crypto
from ...directory.models import User
from ...extensions import db
from ...oidc import tokens
from ...oidc.models import Token
from ...policy import service as policy
from ... import cache
from .. import rbac
from ...signin import sessions
from ...signin.models import SigninSession
from .models import TemporaryAccessPass
from .policy import CONFIG
from ...i18n.names import Message, N_

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"  # no 0/O, 1/l/I look-alikes
PURPOSE = METHOD_NAME = "tap"
ONE_TIME_REGISTRATION_WINDOW = timedelta(minutes=10)
EXTERNAL_GUEST_ERROR = "Temporary Access Pass cannot be added to an external guest user."
OWN_PASS = "Nobody can manage their own Temporary Access Pass: an administrator creates and deletes it."
MAX_START_AHEAD = timedelta(days=365)


#: refusals with a date in them: registered so that the sign-in log, which stores them in English, shows them
#: translated (audit.reasons)
EXPIRED = reasons.template(N_("This Temporary Access Pass expired on %(date)s. Ask your administrator for a new one."))
NOT_YET_VALID = reasons.template(N_("This Temporary Access Pass is not valid yet: it can be used from %(date)s."))


class TapError(ServiceError):
    """A refused Temporary Access Pass request."""


# --- who may do what ------------------------------------------------------------------------------


def authorize(caller, target: User, action: str) -> None:
    """Entra's rules for passes: those of methods in general, and nobody manages their own pass."""
    try:
        rbac.authorize(caller, target, action, self_service=False)
    except rbac.MethodAccessError as error:
        own = caller.user is not None and caller.user.id == target.id
        raise TapError(
            OWN_PASS if own else error.message,
            403,
            code=error.code,
            reason_id="tap.own_pass" if own else error.reason_id,
        ) from None


# --- the pass -------------------------------------------------------------------------------------


def live_pass(user_id: str) -> TemporaryAccessPass | None:
    """The user's pass that has not been deleted (once per request: each sign-in step asks)."""
    return cache.per_request(
        "live-pass",
        user_id,
        lambda: db.session.scalar(
            select(TemporaryAccessPass).where(
                TemporaryAccessPass.user_id == user_id, TemporaryAccessPass.deleted_at.is_(None)
            )
        ),
    )


def remember_live_pass(user_id: str, tap: TemporaryAccessPass | None) -> None:
    """`live_pass` as a query of this request read it (a change to a pass forgets it, as for `live_pass`)."""
    cache.remember("live-pass", user_id, tap)


cache.cleared_on_change("live-pass", TemporaryAccessPass)


def latest_pass(user_id: str) -> TemporaryAccessPass | None:
    """The user's newest pass, deleted or not (sign-in explains a deleted one)."""
    return db.session.scalar(
        select(TemporaryAccessPass)
        .where(TemporaryAccessPass.user_id == user_id)
        .order_by(TemporaryAccessPass.created_at.desc())
        .limit(1)
    )


@dataclass
class Usability:
    """Whether a pass can sign in now: one rule for Graph's isUsable/methodUsabilityReason, the console,
    My Security Info, the sign-in's offer and the sign-in itself. `message` is for the user."""

    usable: bool
    reason: str
    message: str | None = None


def check(tap: TemporaryAccessPass, user: User) -> Usability:
    now = clock.now()
    if tap.deleted_at:
        return Usability(
            False, "Deleted", N_("This Temporary Access Pass has been deleted. Ask your administrator for a new one.")
        )
    if tap.is_usable_once and tap.used_at:
        return Usability(
            False,
            "OneTimeUsed",
            N_("This one-time Temporary Access Pass has already been used. Ask your administrator for a new one."),
        )
    if now >= tap.ends_at:
        return Usability(
            False,
            "Expired",
            Message(
                EXPIRED,
                date=tap.ends_at,
            ),
        )
    if now < tap.start_at:
        return Usability(
            False,
            "NotYetValid",
            Message(NOT_YET_VALID, date=tap.start_at),
        )
    config = policy.get(tap.tenant_id, CONFIG.method_id)
    if not policy.targets(config, user):
        return Usability(
            False,
            "DisabledByPolicy",
            N_("Your organization has not enabled Temporary Access Pass sign-in for your account."),
        )
    if config.settings["isUsableOnce"] and not tap.is_usable_once:
        return Usability(
            False,
            "DisabledByPolicy",
            "Your organization now allows only one-time Temporary Access "
            "Passes, and this pass is multi-use. Ask your administrator "
            "for a new one.",
        )
    return Usability(True, "EnabledByPolicy")


def usability(tap: TemporaryAccessPass, user: User) -> tuple[bool, str]:
    """(isUsable, methodUsabilityReason) as Graph reports them."""
    state = check(tap, user)
    return state.usable, state.reason


def usable_pass(user: User) -> TemporaryAccessPass | None:
    """The user's pass when it can sign in now (what the sign-in offers)."""
    tap = live_pass(user.id)
    return tap if tap is not None and check(tap, user).usable else None


def _parse_start(value) -> datetime:
    if value is None:
        return clock.now()
    if not isinstance(value, str) or len(value) > 40:
        raise TapError("Property 'startDateTime' must be an ISO 8601 date and time.", reason_id="tap.start_invalid")
    # .NET and the Graph SDKs send seven fractional digits; Python reads at most six
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TapError(
            "Property 'startDateTime' must be an ISO 8601 date and time.", reason_id="tap.start_invalid"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    if moment < clock.now() - timedelta(minutes=5):
        raise TapError("Property 'startDateTime' must not be in the past.", reason_id="tap.start_past")
    if moment > clock.now() + MAX_START_AHEAD:
        raise TapError(
            f"Property 'startDateTime' must be at most {MAX_START_AHEAD.days} days ahead.",
            reason_id="tap.start_too_far",
            values={"days": MAX_START_AHEAD.days},
        )
    return moment


FIELDS = ("startDateTime", "lifetimeInMinutes", "isUsableOnce")


def create_from(user: User, created_by: str | None, fields: dict) -> tuple[TemporaryAccessPass, str]:
    """Create a pass from Graph's properties: the API's JSON body, or the console's form read into the same
    names, so both refuse the same things with the same words."""
    unknown = set(fields) - set(FIELDS) - {"@odata.type"}
    if unknown:
        raise TapError(f"Property '{min(unknown)}' is not valid for a Temporary Access Pass.")
    return create(
        user, created_by, fields.get("startDateTime"), fields.get("lifetimeInMinutes"), fields.get("isUsableOnce")
    )


def create(
    user: User, created_by: str | None, start=None, lifetime=None, usable_once=None
) -> tuple[TemporaryAccessPass, str]:
    """Create the user's pass, replacing any earlier one. Returns the pass and its code (shown once)."""
    if user.is_external_guest:
        raise TapError(EXTERNAL_GUEST_ERROR, reason_id="tap.external_guest")
    settings = policy.get(user.tenant_id, CONFIG.method_id).settings
    low, high = settings["minimumLifetimeInMinutes"], settings["maximumLifetimeInMinutes"]
    if lifetime is None:
        lifetime = settings["defaultLifetimeInMinutes"]
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not low <= lifetime <= high:
        raise TapError(
            f"Property 'lifetimeInMinutes' must be between {low} and {high} minutes under the tenant's policy.",
            reason_id="tap.lifetime",
            values={"low": low, "high": high},
        )
    if usable_once is not None and not isinstance(usable_once, bool):
        raise TapError("Property 'isUsableOnce' must be true or false.", reason_id="tap.usable_once")
    if settings["isUsableOnce"] and usable_once is False:
        raise TapError(
            "The tenant's policy allows only one-time Temporary Access Passes: 'isUsableOnce' must be true.",
            reason_id="tap.only_one_time",
        )
    usable_once = True if settings["isUsableOnce"] else bool(usable_once)
    start_at = _parse_start(start)
    for old in db.session.scalars(select(TemporaryAccessPass).where(TemporaryAccessPass.user_id == user.id)):
        _end_sign_ins(old)
    db.session.execute(delete(TemporaryAccessPass).where(TemporaryAccessPass.user_id == user.id))
    code = "".join(secrets.choice(ALPHABET) for _ in range(settings["defaultLength"]))
    tap = TemporaryAccessPass(
        tenant_id=user.tenant_id,
        user_id=user.id,
        code_hash=crypto.keyed_digest(code, PURPOSE),
        start_at=start_at,
        lifetime_minutes=lifetime,
        is_usable_once=usable_once,
        created_by=created_by,
    )
    db.session.add(tap)
    db.session.flush()
    return tap, code


def remove(tap: TemporaryAccessPass) -> None:
    """Delete the pass: it stops working at once, and so does everything signed in with it."""
    tap.deleted_at = clock.now()
    _end_sign_ins(tap)
    db.session.flush()


def _end_sign_ins(tap: TemporaryAccessPass) -> None:
    sessions.revoke_sessions(SigninSession.credential_ref == tap.id)
    session_ids = select(SigninSession.id).where(SigninSession.credential_ref == tap.id)
    tokens.revoke_where(Token.session_id.in_(session_ids))


# --- signing in -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    message: str | None = None
    tap: TemporaryAccessPass | None = None


def sign_in(user: User, code: str) -> Outcome:
    """Check a code; a one-time pass is consumed atomically, so exactly one concurrent attempt wins."""
    tap = latest_pass(user.id)
    if tap is None or not code or len(code) > 64 or not crypto.keyed_verify(tap.code_hash, code, PURPOSE):
        return Outcome(False, N_("That Temporary Access Pass is not correct. Check it and try again."))
    state = check(tap, user)
    if not state.usable:
        return Outcome(False, state.message, tap)
    if tap.is_usable_once:
        claimed = db.session.execute(
            update(TemporaryAccessPass)
            .where(
                TemporaryAccessPass.id == tap.id,
                TemporaryAccessPass.used_at.is_(None),
                TemporaryAccessPass.deleted_at.is_(None),
            )
            .values(used_at=clock.now())
        ).rowcount
        db.session.commit()
        if claimed != 1:
            return Outcome(
                False,
                N_("This one-time Temporary Access Pass has already been used. Ask your administrator for a new one."),
                tap,
            )
    return Outcome(True, tap=tap)


def registration_deadline(session: SigninSession) -> datetime | None:
    """Until when a session signed in with a TAP may register a passwordless method: 10 minutes after a
    one-time pass sign-in, the pass's end for a multi-use one; None when not a TAP sign-in."""
    if METHOD_NAME not in session.methods:
        return None
    tap = db.session.get(TemporaryAccessPass, session.credential_ref)
    if tap is None:
        return None
    if tap.is_usable_once:
        return min(session.auth_time + ONE_TIME_REGISTRATION_WINDOW, tap.ends_at)
    return tap.ends_at


def refresh_rule(session: SigninSession, refresh_token) -> None:
    """Refresh of a TAP sign-in: say why it is refused when the pass is gone or over."""
    from authlib.oauth2.rfc6749.errors import InvalidGrantError

    if METHOD_NAME not in session.methods:
        return
    tap = db.session.get(TemporaryAccessPass, session.credential_ref)
    if tap is None or tap.deleted_at:
        raise InvalidGrantError("The Temporary Access Pass used for this sign-in was deleted; sign in again.")
    if clock.now() >= tap.ends_at:
        raise InvalidGrantError("The Temporary Access Pass used for this sign-in has expired; sign in again.")
