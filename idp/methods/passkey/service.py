"""Passkey registration (self-service and admin provisioning), sign-in verification and removal,
with the Fido2 policy applied at each: targeting, self-service, attestation, key restrictions."""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ...errors import ServiceError
from ... import clock
from ...claims_once import claim_once
from ...extensions import db
from ...policy import service as policy
from ...signin import sessions
from . import ceremonies, mds
from .models import Passkey, PasskeyChallenge
from .policy import CONFIG, MICROSOFT_AUTHENTICATOR, key_allowed
from ...audit import reasons
from ...i18n.names import N_

REFUSED_BY_POLICY = reasons.template(N_("passkey refused by policy (%(aaguid)s)"))
ASSERTION_FAILED = reasons.template(N_("assertion: %(error)s"))

log = logging.getLogger(__name__)
METHOD_NAME = "passkey"
KNOWN_MODELS = {
    MICROSOFT_AUTHENTICATOR[0]: "Microsoft Authenticator for iOS",
    MICROSOFT_AUTHENTICATOR[1]: "Microsoft Authenticator for Android",
}
KEY_NOT_ALLOWED = (
    "This security key model is not allowed by your organization. Use another passkey or ask your administrator."
)
SELF_SERVICE_TIMEOUT = timedelta(minutes=5)
ATTESTATION_REFUSED = "Your organization requires a security key whose make and model can be verified; this one {why}."
SYNCED_REFUSED = (
    "This is a synced passkey (backed up to a cloud account). Your organization accepts device-bound "
    "passkeys only: a security key or Microsoft Authenticator."
)


class PasskeyError(ServiceError, ValueError):
    """A refused passkey; `reason` is the sign-in log's words for it."""

    def __init__(self, message: str, reason: str | None = None, status: int = 400, reason_id: str | None = None):
        super().__init__(message, status, reason_id=reason_id)
        self.reason = reason or message


def settings(tenant_id: str) -> policy.Configuration:
    return policy.get(tenant_id, CONFIG.method_id)


def passkeys_of(user_id: str) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)))


# --- registration ----------------------------------------------------------------------------------


def policy_refusal(user) -> str | None:
    """Why the policy does not let this user hold a new passkey (both self-service and provisioning)."""
    if user.is_external_guest:
        return N_(
            "Guests from another organization cannot register passkeys here. Register your passkey with your "
            "own organization and sign in with it there."
        )
    if not policy.targets(settings(user.tenant_id), user):
        return N_("Your organization has not enabled passkeys for you.")
    return None


def self_service_refusal(user, session) -> tuple[str, bool] | None:
    """(message, whether signing in again would help), or None when this session may register now."""
    message = policy_refusal(user)
    if message:
        return message, False
    if not settings(user.tenant_id).settings["isSelfServiceRegistrationAllowed"]:
        return _("Your organization does not let you register passkeys yourself. Ask your administrator."), False
    deadline = sessions.registration_deadline(session)
    if deadline is not None:
        if clock.now() >= deadline:
            return (
                _(
                    "The time to set up a passkey after signing in with your Temporary Access Pass has passed "
                    "(10 minutes for a one-time pass). Ask for a new pass."
                ),
                False,
            )
        return None
    freshness = timedelta(seconds=current_app.config["IDP_PASSKEY_REGISTRATION_FRESHNESS"])
    if session.mfa_at is None or clock.now() - session.mfa_at > freshness:
        return _("Adding a passkey needs a recent sign-in with multifactor authentication. Sign in again."), True
    return None


def begin_registration(user, purpose: str, lifetime: timedelta) -> tuple[dict, PasskeyChallenge]:
    raw, challenge = ceremonies.new_challenge()
    row = PasskeyChallenge(
        challenge=challenge,
        tenant_id=user.tenant_id,
        user_id=user.id,
        purpose=purpose,
        expires_at=clock.now() + lifetime,
    )
    db.session.add(row)
    db.session.flush()
    enforced = settings(user.tenant_id).settings["isAttestationEnforced"]
    options = ceremonies.registration_options(
        user,
        [p.credential_id for p in passkeys_of(user.id)],
        raw,
        int(lifetime.total_seconds() * 1000),
        attestation=enforced,
    )
    return options, row


def _consume_challenge(user, credential: dict, purpose: str) -> str:
    """The challenge this response answers, claimed once: a reused or expired challenge is refused."""
    challenge = ceremonies.client_challenge(credential)
    claimed = bool(challenge) and claim_once(
        PasskeyChallenge,
        PasskeyChallenge.challenge == challenge,
        PasskeyChallenge.user_id == user.id,
        PasskeyChallenge.purpose == purpose,
        PasskeyChallenge.used_at.is_(None),
        PasskeyChallenge.expires_at > clock.now(),
        used_at=clock.now(),
    )
    db.session.commit()
    if not claimed:
        raise PasskeyError(
            "This passkey request has expired or was already used. Start again.",
            "registration challenge expired, reused or unknown",
            reason_id="passkey.expired",
        )
    return challenge


def register(user, credential, display_name: str, purpose: str) -> Passkey:
    """Verify a registration response under the policy and store the passkey (raises PasskeyError)."""
    refusal = policy_refusal(user)
    if refusal:
        raise PasskeyError(refusal, status=403)
    if not isinstance(credential, dict):
        raise PasskeyError("The passkey response is missing or malformed.", reason_id="passkey.malformed")
    challenge = _consume_challenge(user, credential, purpose)
    peeked = ceremonies.peek_attestation(credential)
    if peeked is None:
        raise PasskeyError(
            "The passkey response is missing or malformed.",
            "unparseable attestation object",
            reason_id="passkey.malformed",
        )
    fmt, aaguid, has_chain = peeked
    config = settings(user.tenant_id).settings
    if not key_allowed(config, aaguid):
        raise PasskeyError(
            KEY_NOT_ALLOWED, f"AAGUID {aaguid} refused by key restrictions", status=403, reason_id="passkey.model"
        )
    roots = mds.root_pems(aaguid) if has_chain else []
    if config["isAttestationEnforced"] and not roots:
        why = "carries no attestation" if not has_chain else "is not in the FIDO metadata the organization trusts"
        raise _attestation_refused(aaguid, why)
    verified, attested = _verified(credential, challenge, fmt, aaguid, roots, config["isAttestationEnforced"])
    if str(getattr(verified.credential_device_type, "value", verified.credential_device_type)) == "multi_device":
        # Entra's passkeys page: this policy supports device-bound passkeys (security keys, Authenticator) only
        raise PasskeyError(
            SYNCED_REFUSED,
            f"synced (backup-eligible) passkey refused ({aaguid})",
            status=403,
            reason_id="passkey.synced",
        )
    credential_id = ceremonies.bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError("This passkey is already registered.", status=409, reason_id="passkey.registered")
    passkey = _passkey(user, credential, verified, display_name, fmt, aaguid, attested)
    db.session.add(passkey)
    db.session.flush()
    return passkey


def _verified(credential, challenge, fmt: str, aaguid: str, roots: list, enforced: bool):
    """(the verified registration, whether its attestation chain verified to a trusted root)."""
    try:
        if roots:
            return ceremonies.verify_registration(credential, challenge, {fmt: roots}), True
        return ceremonies.verify_registration(credential, challenge), False
    except ceremonies.CeremonyError as error:
        if not roots:
            raise PasskeyError(
                "The passkey could not be verified. Try again.",
                f"registration: {error}",
                reason_id="passkey.unverified",
            ) from None
        if enforced:  # the same refusal, status and code as any other attestation refusal
            raise _attestation_refused(aaguid, "has an attestation that does not verify") from None
        return ceremonies.verify_registration(credential, challenge), False  # chain did not verify: not attested


def _passkey(user, credential, verified, display_name: str, fmt: str, aaguid: str, attested: bool) -> Passkey:
    entry = mds.entry(aaguid) or {}
    return Passkey(
        tenant_id=user.tenant_id,
        user_id=user.id,
        credential_id=ceremonies.bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=aaguid,
        model=entry.get("description") or KNOWN_MODELS.get(aaguid),
        display_name=(display_name or "").strip()[:200] or "Passkey",
        attestation_format=fmt,
        attestation_level="attested" if attested else "notAttested",
        attestation_certificates=_chain_subjects(credential) if attested else [],
        transports=_transports(credential),
        backed_up=bool(verified.credential_backed_up),
        upn_at_registration=user.upn,
    )


def _attestation_refused(aaguid: str, why: str) -> PasskeyError:
    return PasskeyError(
        ATTESTATION_REFUSED.format(why=why),
        f"attestation enforced: AAGUID {aaguid} {why}",
        status=403,
        reason_id="passkey.attestation",
    )


def _transports(credential: dict) -> list:
    found = (credential.get("response") or {}).get("transports") or []
    return [t for t in found if isinstance(t, str)][:8] if isinstance(found, list) else []


def _chain_subjects(credential: dict) -> list[str]:
    from cryptography import x509
    from webauthn.helpers import parse_attestation_object

    parsed = parse_attestation_object(ceremonies.base64url_to_bytes(credential["response"]["attestationObject"]))
    return [x509.load_der_x509_certificate(c).subject.rfc4514_string()[:256] for c in parsed.att_stmt.x5c or []]


# --- sign-in ---------------------------------------------------------------------------------------


def sign_in_refusal(passkey: Passkey) -> str | None:
    config = settings(passkey.tenant_id)
    if not policy.targets(config, passkey.user):
        return "Passkeys are not enabled for your account."
    if not key_allowed(config.settings, passkey.aaguid):
        return KEY_NOT_ALLOWED
    return None


def authenticate(tenant_id: str, user, credential, challenge: str | None) -> Passkey:
    """Verify an assertion. `user` is None for a username-less sign-in: the credential names its user."""
    if not challenge or not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        raise PasskeyError("Sign-in with your passkey did not complete. Try again.", N_("no passkey assertion"))
    passkey = db.session.scalar(
        select(Passkey).where(Passkey.credential_id == credential["id"][:1400], Passkey.tenant_id == tenant_id)
    )
    if passkey is None or (user is not None and passkey.user_id != user.id):
        raise PasskeyError("That passkey is not registered for this account.", N_("unknown passkey credential"))
    handle = (credential.get("response") or {}).get("userHandle")
    if handle and ceremonies.user_id_from_handle(handle) != passkey.user_id:
        raise PasskeyError("That passkey is not registered for this account.", N_("user handle mismatch"))
    refusal = sign_in_refusal(passkey)
    if refusal:
        raise PasskeyError(refusal, REFUSED_BY_POLICY % {"aaguid": passkey.aaguid})
    try:
        verified = ceremonies.verify_authentication(credential, challenge, passkey.public_key)
    except ceremonies.CeremonyError as error:
        raise PasskeyError(
            "Sign-in with your passkey did not verify. Try again.", ASSERTION_FAILED % {"error": error}
        ) from None
    if verified.new_sign_count and verified.new_sign_count <= passkey.sign_count:
        log.warning(
            "passkey %s sign counter went from %s to %s: possible cloned authenticator",
            passkey.id,
            passkey.sign_count,
            verified.new_sign_count,
        )
        from ...audit import record_audit

        record_audit(
            tenant_id=tenant_id,
            actor_id=passkey.user_id,
            actor_type="user",
            activity="Passkey sign counter regression",
            target_type="fido2AuthenticationMethod",
            target_id=passkey.id,
            before={"signCount": passkey.sign_count},
            after={"signCount": verified.new_sign_count},
        )
    passkey.sign_count = max(passkey.sign_count, verified.new_sign_count)
    passkey.last_used_at = clock.now()
    return passkey


def remove(passkey: Passkey) -> None:
    db.session.delete(passkey)
