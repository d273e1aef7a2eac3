"""The FIDO Metadata Service (MDS3) BLOB, loaded offline from a file an administrator provides.

The BLOB is a JWS whose `x5c` header chains to a root certificate the server is configured with
(IDP_FIDO_MDS_ROOT_CERT). Only after that chain and the signature verify do its entries count: for each
AAGUID, the model name and the attestation roots a registration's chain must verify against.
"""

import base64
import json
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select

from ... import clock
from ...inputs import load_json
from ...extensions import db
from ...i18n.names import Message, N_
from .models import MetadataBlob

#: status reports after which an authenticator's attestation is no longer trusted
UNTRUSTED = {
    "REVOKED",
    "USER_VERIFICATION_BYPASS",
    "ATTESTATION_KEY_COMPROMISE",
    "USER_KEY_REMOTE_COMPROMISE",
    "USER_KEY_PHYSICAL_COMPROMISE",
}
MAX_BLOB_BYTES = 32 * 1024 * 1024
ALGORITHMS = ["RS256", "ES256", "PS256"]


class _BlobRegistry(jws.JWSRegistry):
    """A real BLOB is megabytes with a certificate chain in its header: above joserfc's token-sized limits."""

    max_header_length = 64 * 1024
    max_payload_length = MAX_BLOB_BYTES
    max_signature_length = 4096


class MetadataError(ValueError):
    """The BLOB was refused; the message says why."""


def _root() -> x509.Certificate:
    path = current_app.config.get("IDP_FIDO_MDS_ROOT_CERT")
    if not path or not Path(path).is_file():
        raise MetadataError(
            N_("No MDS root certificate is configured (IDP_FIDO_MDS_ROOT_CERT): the BLOB cannot be verified.")
        )
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def _verify_chain(chain: list[x509.Certificate], root: x509.Certificate) -> None:
    now = clock.now()
    for cert, issuer in zip(chain, chain[1:] + [root], strict=True):
        if cert == issuer:  # the chain may end with the root itself
            continue
        try:
            cert.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError) as error:
            raise MetadataError(
                Message(
                    N_("The BLOB's certificate chain does not lead to the configured root (%(error)s)."),
                    error=error.__class__.__name__,
                )
            ) from None
    for cert in chain:
        if not cert.not_valid_before_utc.replace(tzinfo=None) <= now <= cert.not_valid_after_utc.replace(tzinfo=None):
            raise MetadataError(N_("A certificate of the BLOB's chain is expired or not yet valid."))


def _signing_key(leaf: x509.Certificate):
    pem = leaf.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return (RSAKey if isinstance(leaf.public_key(), rsa.RSAPublicKey) else ECKey).import_key(pem)


def parse(blob: bytes) -> dict:
    """Verify the BLOB and return its payload (raises MetadataError)."""
    if len(blob) > MAX_BLOB_BYTES:
        raise MetadataError(N_("The file is too large for an MDS BLOB."))
    text = blob.decode("ascii", "replace").strip()
    try:
        header = load_json(base64.urlsafe_b64decode(text.split(".")[0] + "=" * (-len(text.split(".")[0]) % 4)))
        chain = [x509.load_der_x509_certificate(base64.b64decode(item)) for item in header["x5c"]]
    except (ValueError, KeyError, TypeError, IndexError):
        raise MetadataError(N_("The file is not an MDS BLOB (a JWS with an x5c certificate chain).")) from None
    if not chain:
        raise MetadataError(N_("The BLOB's header carries no certificate chain."))
    _verify_chain(chain, _root())
    try:
        token = jws.deserialize_compact(text, _signing_key(chain[0]), registry=_BlobRegistry(algorithms=ALGORITHMS))
        payload = json.loads(token.payload)
    except (JoseError, ValueError):
        raise MetadataError(N_("The BLOB's signature does not verify.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("entries"), list):
        raise MetadataError(N_("The BLOB has no entries."))
    return payload


def _reduce(payload: dict) -> dict:
    entries = {}
    for entry in payload["entries"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("aaguid"), str):
            continue  # U2F/UAF entries are keyed otherwise; passkeys have AAGUIDs
        statement = entry.get("metadataStatement") or {}
        reports = entry.get("statusReports") or []
        status = reports[-1].get("status") if reports and isinstance(reports[-1], dict) else None
        entries[entry["aaguid"].lower()] = {
            "description": str(statement.get("description", ""))[:256] or None,
            "roots": []
            if status in UNTRUSTED
            else [r for r in statement.get("attestationRootCertificates", []) if isinstance(r, str)],
            "status": status,
        }
    return entries


def load(blob: bytes, source: str) -> MetadataBlob:
    """Verify and store a BLOB, replacing the previous one (a lower serial number is refused: a rollback)."""
    payload = parse(blob)
    current = _stored()
    serial = payload.get("no") if isinstance(payload.get("no"), int) else 0
    if current is not None and serial < current.serial:
        raise MetadataError(
            Message(
                N_("This BLOB (number %(serial)s) is older than the one loaded (number %(current)s)."),
                serial=serial,
                current=current.serial,
            )
        )
    row = MetadataBlob(
        serial=serial,
        next_update=str(payload.get("nextUpdate", ""))[:32] or None,
        entries=_reduce(payload),
        source=source[:500],
    )
    db.session.add(row)
    db.session.flush()
    return row


def _stored() -> MetadataBlob | None:
    return db.session.scalar(select(MetadataBlob).order_by(MetadataBlob.id.desc()).limit(1))


def latest() -> MetadataBlob | None:
    """The BLOB in use: the last one loaded, or else the configured file's."""
    return _stored() or _load_configured()


def _load_configured() -> MetadataBlob | None:
    """The BLOB at IDP_FIDO_MDS_PATH, loaded on first need when none was uploaded."""
    path = current_app.config.get("IDP_FIDO_MDS_PATH")
    if not path or not Path(path).is_file():
        return None
    try:
        row = load(Path(path).read_bytes(), f"file {path}")
    except MetadataError as error:
        current_app.logger.warning("FIDO MDS BLOB at %s refused: %s", path, error)
        return None
    db.session.commit()
    return row


def entry(aaguid: str) -> dict | None:
    row = latest()
    return row.entries.get(aaguid.lower()) if row else None


def root_pems(aaguid: str) -> list[bytes]:
    """The attestation roots of this authenticator model, PEM-encoded for py_webauthn."""
    found = entry(aaguid)
    pems = []
    for der_b64 in (found or {}).get("roots", []):
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(der_b64))
        except ValueError:
            continue
        pems.append(cert.public_bytes(serialization.Encoding.PEM))
    return pems
