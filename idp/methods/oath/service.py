"""OATH rules: enrolment, the hardware inventory, assignment, activation with drift, sign-in, replay."""

import functools
import io
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import Select, bindparam, delete, func, select, update

from ...errors import ServiceError
from ... import clock, crypto
from ...claims_once import claim_once
from ...directory.models import User
from ...i18n.names import N_
from ...extensions import db
from ...policy import service as policy
from ... import cache
from . import totp
from .models import HardwareOathDevice, OathMethod
from .policy import HARDWARE, SOFTWARE

MAX_METHODS = 5
ISSUER = "IdP"
HOTP_REFUSAL = "HOTP (counter-based) tokens are not supported: only TOTP tokens with a 30 or 60 second interval."
SEALING_CONTEXT = "oath-secret"


class OathError(ServiceError):
    """A refused OATH token or authenticator-app request."""


# --- secrets and parameters -----------------------------------------------------------------------


def seal(secret: str) -> str:
    return crypto.seal(secret.upper().encode(), SEALING_CONTEXT)


def unseal(sealed: str) -> str:
    return crypto.unseal(sealed, SEALING_CONTEXT).decode()


def parameters(method: OathMethod) -> tuple[str, str, int]:
    """(secret, hash function, interval) of a method."""
    if method.kind == "hardware":
        device = method.device
        return unseal(device.secret), device.hash_function, device.time_interval
    return unseal(method.secret), "hmacsha1", 30


def methods_of(user_id: str, activated_only: bool = False) -> list[OathMethod]:
    """The user's tokens (once per request: each sign-in step asks whether the method is available)."""

    def load() -> list[OathMethod]:
        return list(db.session.scalars(_methods_of(activated_only), {"user_id": user_id}))

    return list(cache.per_request("oath-methods", (user_id, activated_only), load))


@functools.cache
def _methods_of(activated_only: bool) -> Select:
    """Built once: a statement keeps its compiled-cache key (each sign-in step runs one of these)."""
    stmt = select(OathMethod).where(OathMethod.user_id == bindparam("user_id")).order_by(OathMethod.created_at)
    return stmt.where(OathMethod.activated_at.is_not(None)) if activated_only else stmt


cache.cleared_on_change("oath-methods", OathMethod)


def _check_room(user: User) -> None:
    count = db.session.scalar(select(func.count()).select_from(OathMethod).where(OathMethod.user_id == user.id))
    if count >= MAX_METHODS:
        raise OathError(
            f"A user can have at most {MAX_METHODS} OATH methods (authenticator apps and hardware "
            "tokens together). Remove one first.",
            reason_id="oath.too_many",
            values={"count": MAX_METHODS},
        )


# --- authenticator apps -----------------------------------------------------------------------------


@dataclass
class Enrolment:
    method: OathMethod
    secret: str
    uri: str
    qr_svg: str


def start_software_enrolment(user: User) -> Enrolment:
    """A new authenticator app for `user`: secret, otpauth URI and QR code. Active only once confirmed."""
    if user.is_external_guest:
        raise OathError(
            "External guests cannot register an authenticator app in this organization.",
            reason_id="oath.external_guest",
        )
    db.session.execute(
        delete(OathMethod).where(
            OathMethod.user_id == user.id, OathMethod.kind == "software", OathMethod.activated_at.is_(None)
        )
    )
    _check_room(user)
    secret = totp.new_secret()
    method = OathMethod(
        tenant_id=user.tenant_id,
        user_id=user.id,
        kind="software",
        secret=seal(secret),
        display_name="Authenticator app",
    )
    db.session.add(method)
    db.session.flush()
    return enrolment_view(method, user, secret)


def enrolment_view(method: OathMethod, user: User, secret: str | None = None) -> Enrolment:
    secret = secret or unseal(method.secret)
    uri = pyotp.TOTP(secret, issuer=ISSUER).provisioning_uri(
        name=user.upn, issuer_name=f"{ISSUER} ({user.tenant.display_name})"
    )
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return Enrolment(method, secret, uri, buffer.getvalue().decode())


# --- hardware inventory -----------------------------------------------------------------------------

NAME_FIELDS = {"manufacturer": "manufacturer", "model": "model", "displayName": "display_name"}
MAX_NAME = 256


def validate_names(values: dict) -> dict:
    """The descriptive names of a token (Graph property -> value): strings of at most 256 characters, or null.
    Returns them under the model's attribute names. One rule for POST, PATCH and the CSV import."""
    names = {}
    for prop, attribute in NAME_FIELDS.items():
        if prop not in values:
            continue
        value = values[prop]
        if value is not None and (not isinstance(value, str) or len(value) > MAX_NAME):
            raise OathError(f"Property '{prop}' must be a string of at most {MAX_NAME} characters.")
        names[attribute] = value
    return names


def validate_device_fields(serial, secret, interval, hash_function) -> tuple[str, str, int, str]:
    """Normalised (serial, secret, interval, hash) or OathError naming the rule."""
    if hash_function is not None and not isinstance(hash_function, str):
        raise OathError("Property 'hashFunction' must be 'hmacsha1' or 'hmacsha256'.")
    if hash_function is not None and hash_function.lower() in ("hotp", "hmachotp") or interval in (0, "0"):
        raise OathError(HOTP_REFUSAL)
    if not isinstance(serial, str) or not serial.strip() or len(serial) > 128:
        raise OathError("Property 'serialNumber' is required (at most 128 characters).")
    problem = totp.secret_problem(secret)
    if problem:
        raise OathError(f"Property 'secretKey': {problem}")
    if isinstance(interval, bool) or interval not in (30, 60):
        raise OathError("Property 'timeIntervalInSeconds' must be 30 or 60.")
    hash_function = hash_function or "hmacsha1"
    if hash_function not in totp.HASHES:
        raise OathError("Property 'hashFunction' must be 'hmacsha1' or 'hmacsha256'.")
    return serial.strip(), secret, interval, hash_function


def serial_taken(tenant_id: str, serial: str) -> bool:
    return (
        db.session.scalar(
            select(HardwareOathDevice.id).where(
                HardwareOathDevice.tenant_id == tenant_id, HardwareOathDevice.serial_number == serial
            )
        )
        is not None
    )


def create_device(
    tenant_id: str, serial, secret, interval, hash_function="hmacsha1", manufacturer=None, model=None, display_name=None
) -> HardwareOathDevice:
    serial, secret, interval, hash_function = validate_device_fields(serial, secret, interval, hash_function)
    names = validate_names({"manufacturer": manufacturer, "model": model, "displayName": display_name})
    if serial_taken(tenant_id, serial):
        raise OathError(f"A token with serial number '{serial}' is already in the inventory.", 409)
    device = HardwareOathDevice(
        tenant_id=tenant_id,
        serial_number=serial,
        secret=seal(secret),
        time_interval=interval,
        hash_function=hash_function,
        **names,
    )
    db.session.add(device)
    db.session.flush()
    return device


def assign(device: HardwareOathDevice, user: User) -> OathMethod:
    """Give `user` the token. A token belongs to at most one user; racing assignments: one wins (409)."""
    if user.is_external_guest:
        raise OathError(
            "External guests cannot be assigned a hardware token in this organization.", reason_id="oath.external_guest"
        )
    if device.tenant_id != user.tenant_id:
        raise OathError("The token is not in this user's organization.", 404, reason_id="oath.other_tenant")
    _check_room(user)
    if not claim_once(
        HardwareOathDevice,
        HardwareOathDevice.id == device.id,
        HardwareOathDevice.assigned_to.is_(None),
        assigned_to=user.id,
        status="assigned",
    ):  # nothing was written: callers need not roll back
        raise OathError("This token is already assigned to a user.", 409, reason_id="oath.taken")
    method = OathMethod(
        tenant_id=user.tenant_id,
        user_id=user.id,
        kind="hardware",
        device_id=device.id,
        display_name=device.display_name or f"{device.manufacturer or 'Token'} {device.serial_number}",
    )
    db.session.add(method)
    db.session.flush()
    return method


def remove(method: OathMethod) -> None:
    """Delete a user's method; a hardware token goes back to the inventory as available."""
    if method.device_id:
        db.session.execute(
            update(HardwareOathDevice)
            .where(HardwareOathDevice.id == method.device_id)
            .values(assigned_to=None, status="available")
        )
    db.session.delete(method)
    db.session.flush()


# --- activation and sign-in -------------------------------------------------------------------------


@dataclass
class Activation:
    ok: bool
    need_next_code: bool = False
    message: str | None = None


def activate(method: OathMethod, code: str, confirm_far: bool = True) -> Activation:
    """Search the activation window (±1 day at 30 s, ±2 days at 60 s) for `code`, and store the drift.

    A match far from now could be luck (about 0.6 % across a day), so with `confirm_far` (the pages) a match
    outside the sign-in window needs the next code too; Graph's activate, as in Entra, takes one code."""
    secret, hash_function, interval = parameters(method)
    found = search_activation(secret, hash_function, interval, code, method.pending_step, confirm_far)
    if found.step is not None:
        return _activated(method, found.step, totp.step_of(clock.timestamp(), interval))
    method.pending_step = found.pending_step
    if found.need_next_code:
        db.session.flush()
        return Activation(False, need_next_code=True, message=found.message)
    return _failed(method, found.message)


@dataclass
class Search:
    step: int | None = None  # the verified step
    pending_step: int | None = None  # a far match waiting for its next code
    need_next_code: bool = False
    message: str | None = None


def search_activation(
    secret: str, hash_function: str, interval: int, code: str, pending_step: int | None, confirm_far: bool = True
) -> Search:
    """The activation search on its own, so that a token can be checked before anything is assigned."""
    searcher = totp.Searcher(secret, hash_function)
    if pending_step is not None:
        expected = pending_step + 1
        if (code or "").isdigit() and len(code) == totp.DIGITS and searcher.code(expected) == int(code):
            return Search(step=expected)
        return Search(message=N_("That code does not follow the previous one. Start again with the code shown now."))
    now_step = totp.step_of(clock.timestamp(), interval)
    match = searcher.find(code, now_step, totp.activation_radius(interval))
    if match is None:
        return Search(message=N_("That code is not valid for this token. Check the code and try again."))
    if confirm_far and abs(match.drift) > totp.signin_radius(interval):
        return Search(
            pending_step=match.step,
            need_next_code=True,
            message=N_(
                "This token's clock is far off. Wait for the token to show its next code, and enter that one too."
            ),
        )
    return Search(step=match.step)


def claim_and_activate(
    device: HardwareOathDevice, user: User, code: str, pending_step: int | None
) -> tuple[Search, OathMethod | None]:
    """Self-service: assign an available token to `user` only once a code from it verifies (a wrong code
    assigns nothing, renames nothing). Returns the search and, on success, the activated method."""
    secret = unseal(device.secret)
    found = search_activation(secret, device.hash_function, device.time_interval, code, pending_step)
    if found.step is None:
        return found, None
    method = assign(device, user)
    _activated(method, found.step, totp.step_of(clock.timestamp(), device.time_interval))
    return found, method


def _activated(method: OathMethod, step: int, now_step: int) -> Activation:
    method.drift, method.last_step, method.pending_step = step - now_step, step, None
    method.activated_at = method.last_used_at = clock.now()
    if method.device_id:
        method.device.status = "activated"
    db.session.flush()
    return Activation(True)


def _failed(method: OathMethod, message: str) -> Activation:
    if method.device_id and method.device.status != "activated":
        method.device.status = "failedActivation"
    db.session.flush()
    return Activation(False, message=message)


def verify(user: User, code: str, kinds: set[str]) -> OathMethod | None:
    """Sign-in: a code of any of the user's activated methods, within the sign-in window around the stored
    drift, never a step already used. Accepting updates the drift; concurrent uses of one step: one wins."""
    for method in methods_of(user.id, activated_only=True):
        if method.kind not in kinds:
            continue
        secret, hash_function, interval = parameters(method)
        now_step = totp.step_of(clock.timestamp(), interval)
        match = totp.Searcher(secret, hash_function).find(
            code, now_step + method.drift, totp.signin_radius(interval), after=method.last_step
        )
        if match is None:
            continue
        claimed = claim_once(
            OathMethod,
            OathMethod.id == method.id,
            OathMethod.last_step < match.step,
            last_step=match.step,
            drift=match.step - now_step,
            last_used_at=clock.now(),
        )
        if method.device_id:
            db.session.execute(
                update(HardwareOathDevice)
                .where(HardwareOathDevice.id == method.device_id)
                .values(last_used_at=clock.now())
            )
        db.session.commit()
        if claimed:
            return method
    return None


def usable_kinds(user: User) -> set[str]:
    """Which kinds of OATH method the policy lets this user use."""
    kinds = set()
    if policy.applies_to(user.tenant_id, SOFTWARE.method_id, user):
        kinds.add("software")
    if policy.applies_to(user.tenant_id, HARDWARE.method_id, user):
        kinds.add("hardware")
    return kinds
