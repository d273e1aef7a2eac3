"""Certificate credentials of an app registration, as Graph's `keyCredentials`: set as a whole (POST and PATCH
/applications) or one at a time (addKey / removeKey, which need a `proof` signed with a certificate the app
already holds, as Graph asks). The public certificates land in `Client.certificates`, where private_key_jwt
checks client assertions: a key added here signs in at once, and a removed one stops at once."""

import base64
import hashlib
import uuid

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwt
from joserfc.errors import JoseError

from .. import clock
from ..directory.service import DirectoryError
from ..extensions import db
from .grants import certificates
from .models import Client

MAX_KEYS = 20
#: Graph's documented proof: audience (Azure AD Graph's appId), issuer the application's object id, at most
#: ten minutes between nbf and exp
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"
PROOF_LIFETIME = 600
CLOCK_SKEW = 300


def _error(message: str, target: str = "keyCredentials") -> DirectoryError:
    return DirectoryError(message, target=target)


def parse(value) -> tuple[list[dict], list[dict]]:
    """A whole `keyCredentials` list: Graph's metadata, and the certificates assertions are checked against."""
    if not isinstance(value, list) or len(value) > MAX_KEYS:
        raise _error(f"Property 'keyCredentials' must be a list (at most {MAX_KEYS}).")
    pairs = [_one(item) for item in value]
    return [meta for meta, _ in pairs], [cert for _, cert in pairs]


def _one(item) -> tuple[dict, dict]:
    """One certificate (`AsymmetricX509Cert`, usage `Verify`, `key` = base64 DER or PEM)."""
    if not isinstance(item, dict) or item.get("type") != "AsymmetricX509Cert" or item.get("usage") != "Verify":
        raise _error("keyCredentials take type 'AsymmetricX509Cert' with usage 'Verify'.")
    cert = _certificate(item.get("key"))
    der = cert.public_bytes(Encoding.DER)
    thumb = hashlib.sha1(der).digest()  # noqa: S324 (x5t is SHA-1 by definition)
    key_id = str(item.get("keyId") or uuid.uuid4()).lower()[:36]
    display = item.get("displayName")
    meta = {
        "keyId": key_id,
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "displayName": (display if isinstance(display, str) else cert.subject.rfc4514_string())[:256],
        "customKeyIdentifier": thumb.hex().upper(),
        "startDateTime": clock.iso(cert.not_valid_before_utc.replace(tzinfo=None)),
        "endDateTime": clock.iso(cert.not_valid_after_utc.replace(tzinfo=None)),
    }
    stored = {
        "keyId": key_id,
        "x5t": _b64(thumb),
        "x5t#S256": _b64(hashlib.sha256(der).digest()),
        "pem": cert.public_bytes(Encoding.PEM).decode(),
        "not_after": clock.iso(cert.not_valid_after_utc.replace(tzinfo=None)),
    }
    return meta, stored


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _certificate(key):
    if not isinstance(key, str) or len(key) > 20000:
        raise _error("keyCredentials need 'key': the certificate, base64-encoded.")
    try:
        if "BEGIN CERTIFICATE" in key:
            return x509.load_pem_x509_certificate(key.encode())
        return x509.load_der_x509_certificate(base64.b64decode(key, validate=True))
    except ValueError:
        raise _error("The keyCredentials 'key' is not a valid X.509 certificate.") from None


def add_key(client: Client, body: dict) -> dict:
    """addKey: one more certificate, allowed only with a proof from a certificate the app holds now."""
    if body.get("passwordCredential") not in (None, {}):
        raise _error("passwordCredential is only for X509CertAndPassword keys, which this server does not take.")
    _check_proof(client, body.get("proof"))
    if len(client.key_credentials or []) >= MAX_KEYS:
        raise _error(f"An application holds at most {MAX_KEYS} key credentials.")
    item = body.get("keyCredential")
    if not isinstance(item, dict):
        raise _error("Property 'keyCredential' is required.", "keyCredential")
    meta, stored = _one({**item, "keyId": None})
    if any(k.get("customKeyIdentifier") == meta["customKeyIdentifier"] for k in client.key_credentials or []):
        raise _error("The application already holds this certificate.", "keyCredential")
    client.key_credentials = [*(client.key_credentials or []), meta]
    client.certificates = [*(client.certificates or []), stored]
    db.session.flush()
    return {**meta, "key": None}


def remove_key(client: Client, body: dict) -> None:
    """removeKey: drop the certificate `keyId` (and its use for client assertions), with a proof."""
    key_id = str(body.get("keyId") or "").lower()[:36]
    _check_proof(client, body.get("proof"))
    meta = next((k for k in client.key_credentials or [] if k.get("keyId") == key_id), None)
    if meta is None:
        raise DirectoryError(
            f"No key credential with keyId '{key_id}' exists on the application.",
            code="Request_ResourceNotFound",
            status=404,
        )
    x5t = _b64(bytes.fromhex(meta["customKeyIdentifier"]))
    client.key_credentials = [k for k in client.key_credentials if k is not meta]
    client.certificates = [c for c in client.certificates or [] if c.get("keyId") != key_id and c.get("x5t") != x5t]
    db.session.flush()


def _check_proof(client: Client, proof) -> None:
    """The proof of possession Graph documents: a JWT signed by one of the app's valid certificates (named by
    x5t or x5t#S256), aud 00000002-0000-0000-c000-000000000000, iss the application's object id."""
    now = clock.now()
    valid = [c for c in client.certificates or [] if certificates.as_naive_utc(c["not_after"]) > now]
    if not valid:
        raise _error(
            "The application has no valid certificate to prove possession of: add the first one with "
            "PATCH /applications/{id} (keyCredentials) instead."
        )
    if not isinstance(proof, str) or not proof or len(proof) > 16384:
        raise _proof_refused("Property 'proof' is required: a JWT signed with one of the application's certificates.")
    cert = certificates.named_certificate(client, certificates.token_header(proof))
    if cert is None or cert not in valid:
        raise _proof_refused("The proof is not signed with a valid certificate of this application (x5t).")
    try:
        claims = jwt.decode(proof, certificates.public_key(cert), algorithms=certificates.ALGORITHMS).claims
    except (JoseError, ValueError, TypeError):
        raise _proof_refused("The proof's signature does not verify.") from None
    if not _claims_fit(claims, client):
        raise _proof_refused(
            f"The proof needs aud '{PROOF_AUDIENCE}', iss the application's id, and nbf/exp at most ten minutes "
            "apart around now."
        )


def _claims_fit(claims: dict, client: Client) -> bool:
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    start, end = claims.get("nbf"), claims.get("exp")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (start, end)):
        return False
    now = clock.timestamp()
    return (
        PROOF_AUDIENCE in audiences
        and claims.get("iss") == client.object_id
        and start <= now + CLOCK_SKEW
        and end > now - CLOCK_SKEW
        and 0 < end - start <= PROOF_LIFETIME + 1
    )


def _proof_refused(reason: str) -> DirectoryError:
    """Graph answers a bad proof as a bad token (401 Authentication_MissingOrMalformed)."""
    return DirectoryError(
        f"Access Token missing or malformed. {reason}",
        code="Authentication_MissingOrMalformed",
        target="proof",
        status=401,
    )
