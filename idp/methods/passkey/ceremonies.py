"""The two WebAuthn ceremonies, on py_webauthn: the relying party's identity, options and verification."""

import json
import uuid
from urllib.parse import urlsplit

from flask import current_app
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, parse_attestation_object
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ...inputs import load_json
from ...oidc.naming import base_url

ALGORITHMS = [-7, -257, -8]  # ES256, RS256, EdDSA


class CeremonyError(ValueError):
    """The browser's response did not verify; the message is for logs, never shown verbatim."""


def origin() -> str:
    parts = urlsplit(base_url())
    return f"{parts.scheme}://{parts.netloc}"


def rp_id() -> str:
    return current_app.config.get("IDP_WEBAUTHN_RP_ID") or urlsplit(base_url()).hostname


def user_handle(user) -> bytes:
    """The user id's 16 bytes: opaque, stable across UPN changes, and it finds the user again."""
    return uuid.UUID(user.id).bytes


def user_id_from_handle(handle: str | None) -> str | None:
    try:
        return str(uuid.UUID(bytes=base64url_to_bytes(handle or "")))
    except ValueError:
        return None


def _descriptors(credential_ids) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(cid)) for cid in credential_ids]


def registration_options(user, exclude_ids, challenge: bytes, timeout_ms: int, attestation: bool) -> dict:
    """Discoverable credential with user verification; the user's existing keys are excluded."""
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=current_app.config["IDP_WEBAUTHN_RP_NAME"],
        user_id=user_handle(user),
        user_name=user.upn,
        user_display_name=user.display_name or user.upn,
        challenge=challenge,
        timeout=timeout_ms,
        supported_pub_key_algs=ALGORITHMS,
        attestation=AttestationConveyancePreference.DIRECT if attestation else AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        exclude_credentials=_descriptors(exclude_ids),
    )
    return json.loads(options_to_json(options))


def authentication_options(credential_ids, challenge: bytes) -> dict:
    options = generate_authentication_options(
        rp_id=rp_id(),
        challenge=challenge,
        timeout=300_000,
        allow_credentials=_descriptors(credential_ids),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return json.loads(options_to_json(options))


def client_challenge(credential: dict) -> str | None:
    """The challenge the browser signed, read from clientDataJSON (to find which issued challenge it answers)."""
    try:
        data = load_json(base64url_to_bytes(credential["response"]["clientDataJSON"]), max_bytes=16 * 1024, max_depth=4)
        return data["challenge"] if isinstance(data.get("challenge"), str) else None
    except (KeyError, TypeError, ValueError):
        return None


def peek_attestation(credential: dict) -> tuple[str, str, bool] | None:
    """(format, AAGUID, whether an x5c chain is present) of a registration response, before verifying it."""
    try:
        parsed = parse_attestation_object(base64url_to_bytes(credential["response"]["attestationObject"]))
        attested = parsed.auth_data.attested_credential_data
        aaguid = str(uuid.UUID(bytes=attested.aaguid))
    except (KeyError, TypeError, ValueError, AttributeError, WebAuthnException):
        return None
    return (
        str(parsed.fmt.value if hasattr(parsed.fmt, "value") else parsed.fmt),
        aaguid,
        bool(parsed.att_stmt and parsed.att_stmt.x5c),
    )


def verify_registration(credential: dict, challenge: str, roots_by_format: dict | None = None):
    try:
        return verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id(),
            expected_origin=origin(),
            require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS,
            pem_root_certs_bytes_by_fmt=roots_by_format,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        raise CeremonyError(str(error)[:300]) from None


def verify_authentication(credential: dict, challenge: str, public_key: bytes):
    """The sign counter is compared by the caller (a regression is logged, not fatal: synced passkeys
    report 0), so py_webauthn is given 0 here."""
    try:
        return verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id(),
            expected_origin=origin(),
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        raise CeremonyError(str(error)[:300]) from None


def new_challenge() -> tuple[bytes, str]:
    import secrets

    raw = secrets.token_bytes(32)
    return raw, bytes_to_base64url(raw)
