"""Authenticator rules: pairing (a one-time code, proof of the new key), push requests with number matching,
signed responses that count exactly once, and what a sign-in learns from them."""

import ipaddress
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from ...errors import ServiceError
from ... import clock, crypto
from ...audit.log import client_ip
from ...directory.models import User
from ...extensions import db
from ...oidc.models import Client
from ...policy import service as policy
from ...signin import hooks
from ...signin.models import SigninTransaction
from . import protocol
from .models import AuthenticatorDevice, AuthenticatorPairing, PushRequest
from .policy import CONFIG
from ...i18n.names import Message, N_

PAIRING_LIFETIME = timedelta(minutes=10)
REQUEST_LIFETIME = timedelta(seconds=90)
MAX_DEVICES = 5
DECISIONS = ("approve", "deny", "report")


class PushError(ServiceError):
    """A refused request of the authenticator app's API."""


def allowed(user: User) -> bool:
    return policy.applies_to(user.tenant_id, CONFIG.method_id, user)


def devices_of(user_id: str) -> list[AuthenticatorDevice]:
    return list(
        db.session.scalars(
            select(AuthenticatorDevice)
            .where(AuthenticatorDevice.user_id == user_id)
            .order_by(AuthenticatorDevice.created_at)
        )
    )


# --- pairing -------------------------------------------------------------------------------------------


def start_pairing(user: User) -> tuple[AuthenticatorPairing, str]:
    """A new pairing code for `user` (the QR code carries it); returns (pairing, code)."""
    if user.is_external_guest:
        raise PushError(N_("External guests cannot add an authenticator in this organization."))
    if len(devices_of(user.id)) >= MAX_DEVICES:
        raise PushError(
            Message(N_("You can pair at most %(count)s authenticators. Remove one first."), count=MAX_DEVICES)
        )
    code = secrets.token_urlsafe(32)
    pairing = AuthenticatorPairing(
        tenant_id=user.tenant_id,
        user_id=user.id,
        code_hash=crypto.digest(code),
        expires_at=clock.now() + PAIRING_LIFETIME,
    )
    db.session.add(pairing)
    db.session.flush()
    return pairing, code


def pair(tenant_id: str, body: dict) -> AuthenticatorDevice:
    """The device's pairing call: {code, publicKey, deviceName, proof}. The code works once; the proof is the
    new key's signature over the code, so the server stores only keys their holder can use."""
    code, key, proof = body.get("code"), body.get("publicKey"), body.get("proof")
    name = body.get("deviceName") if isinstance(body.get("deviceName"), str) else "Authenticator"
    if not isinstance(code, str) or len(code) > 100:
        raise PushError(N_("Property 'code' is required."))
    pairing = db.session.scalar(
        select(AuthenticatorPairing).where(AuthenticatorPairing.code_hash == crypto.digest(code))
    )
    if pairing is None or pairing.tenant_id != tenant_id or pairing.device_id or clock.now() >= pairing.expires_at:
        raise PushError(N_("This pairing code is not valid any more. Scan a new QR code."), 404)
    if protocol.load_public_key(key) is None:
        raise PushError(N_("Property 'publicKey' must be a P-256 public key (base64url SubjectPublicKeyInfo)."))
    if not protocol.verify(key, proof, protocol.pairing_message(code)):
        raise PushError(N_("Property 'proof' is not a signature of the pairing code by that key."))
    device = AuthenticatorDevice(
        tenant_id=pairing.tenant_id,
        user_id=pairing.user_id,
        display_name=name.strip()[:128] or "Authenticator",
        public_key=key,
    )
    db.session.add(device)
    db.session.flush()
    claimed = db.session.execute(
        update(AuthenticatorPairing)
        .where(AuthenticatorPairing.id == pairing.id, AuthenticatorPairing.device_id.is_(None))
        .values(device_id=device.id)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise PushError(N_("This pairing code was already used. Scan a new QR code."), 409)
    db.session.commit()
    return device


def remove(device: AuthenticatorDevice) -> None:
    db.session.delete(device)
    db.session.flush()


# --- requests ------------------------------------------------------------------------------------------


def _location(ip: str | None) -> str:
    """Where the sign-in comes from, as far as the server can tell without a geolocation database."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "Unknown location"
    return "This network (private address)" if not address.is_global else f"Internet address {address}"


def create_request(user: User, txn_id: str | None) -> PushRequest:
    """A notification to the user's newest device: the browser shows one two-digit number, the device three."""
    devices = devices_of(user.id)
    if not devices:
        raise PushError(N_("You have no authenticator paired."))
    txn = db.session.get(SigninTransaction, txn_id) if txn_id else None
    client = db.session.get(Client, txn.client_id) if txn and txn.client_id else None
    number = 10 + secrets.randbelow(90)
    decoys = set()
    while len(decoys) < 2:
        candidate = 10 + secrets.randbelow(90)
        if candidate != number:
            decoys.add(candidate)
    choices = [number, *decoys]
    secrets.SystemRandom().shuffle(choices)
    ip = client_ip()
    request = PushRequest(
        tenant_id=user.tenant_id,
        user_id=user.id,
        device_id=devices[-1].id,
        txn_id=txn_id,
        number=number,
        choices=choices,
        nonce=secrets.token_urlsafe(24),
        app_name=(client.name if client else user.tenant.display_name)[:256],
        location=_location(ip),
        ip=ip,
        expires_at=clock.now() + REQUEST_LIFETIME,
    )
    db.session.add(request)
    db.session.commit()
    return request


def pending_for(device: AuthenticatorDevice) -> list[PushRequest]:
    return list(
        db.session.scalars(
            select(PushRequest)
            .where(
                PushRequest.device_id == device.id, PushRequest.state == "pending", PushRequest.expires_at > clock.now()
            )
            .order_by(PushRequest.created_at)
        )
    )


def device_by_poll(device_id: str, timestamp, signature) -> AuthenticatorDevice:
    """The device asking for its pending requests, proven by a fresh signed timestamp."""
    device = db.session.get(AuthenticatorDevice, device_id) if isinstance(device_id, str) else None
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        stamp = None
    if (
        device is None
        or stamp is None
        or abs(stamp - clock.timestamp()) > protocol.SKEW_SECONDS
        or not protocol.verify(device.public_key, signature, protocol.poll_message(device.id, stamp))
    ):
        raise PushError(N_("The device's signature is not valid."), 401)
    return device


def view(request: PushRequest) -> dict:
    """What the device shows: never the number itself, only the choices."""
    user = db.session.get(User, request.user_id)
    return {
        "id": request.id,
        "userPrincipalName": user.upn,
        "tenantName": user.tenant.display_name,
        "appName": request.app_name,
        "location": request.location,
        "ipAddress": request.ip,
        "numberChoices": request.choices,
        "nonce": request.nonce,
        "expiresDateTime": clock.iso(request.expires_at),
    }


def respond(request_id: str, body: dict, tenant_id: str | None = None) -> str:
    """The device's answer {deviceId, decision, number, signature}; returns the request's new state.
    Signed by the paired key over the request's nonce; only the first answer counts."""
    request = db.session.get(PushRequest, request_id) if isinstance(request_id, str) else None
    decision, number = body.get("decision"), body.get("number")
    if request is None or body.get("deviceId") != request.device_id or tenant_id not in (None, request.tenant_id):
        raise PushError(N_("There is no such request for this device."), 404)
    if decision not in DECISIONS:
        raise PushError(N_("Property 'decision' must be 'approve', 'deny' or 'report'."))
    if decision == "approve" and (isinstance(number, bool) or not isinstance(number, int)):
        raise PushError(N_("Property 'number' is required to approve: the number shown on the sign-in screen."))
    device = db.session.get(AuthenticatorDevice, request.device_id)
    message = protocol.response_message(request.id, request.nonce, decision, number if decision == "approve" else None)
    if not protocol.verify(device.public_key, body.get("signature"), message):
        raise PushError(N_("The signature is not valid for this device."), 401)
    if request.state != "pending" or clock.now() >= request.expires_at:
        raise PushError(N_("This request has already been answered or has expired."), 409)
    state = {"approve": "approved" if number == request.number else "wrongNumber", "deny": "denied", "report": "fraud"}[
        decision
    ]
    claimed = db.session.execute(
        update(PushRequest)
        .where(PushRequest.id == request.id, PushRequest.state == "pending")
        .values(state=state, responded_at=clock.now())
    ).rowcount
    db.session.execute(
        update(AuthenticatorDevice).where(AuthenticatorDevice.id == device.id).values(last_used_at=clock.now())
    )
    db.session.commit()
    if claimed != 1:
        raise PushError(N_("This request has already been answered."), 409)
    if state == "fraud":
        hooks.report_fraud(request.txn_id, request.user_id)
    return state


def live_request(request_id) -> PushRequest | None:
    """The request still waiting for an answer, or approved and not yet used (so reloading the page does not
    send another notification)."""
    request = db.session.get(PushRequest, request_id) if isinstance(request_id, str) else None
    if request is None or clock.now() >= request.expires_at:
        return None
    if request.state == "pending" or (request.state == "approved" and request.consumed_at is None):
        return request
    return None


def outcome(request_id) -> str:
    """approved (claimed by this sign-in, once), pending, expired, or the device's refusal."""
    request = db.session.get(PushRequest, request_id) if isinstance(request_id, str) else None
    if request is None:
        return "expired"
    db.session.refresh(request)
    if request.state == "approved":
        claimed = db.session.execute(
            update(PushRequest)
            .where(PushRequest.id == request.id, PushRequest.consumed_at.is_(None))
            .values(consumed_at=clock.now())
        ).rowcount
        db.session.commit()
        return "approved" if claimed == 1 else "expired"
    if request.state == "pending":
        return "pending" if clock.now() < request.expires_at else "expired"
    return request.state
