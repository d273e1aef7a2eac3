"""A software FIDO2 authenticator for server-side tests: it answers WebAuthn options the way a browser and
a security key would, with `none` or `packed` attestation, chosen AAGUIDs, and its own test PKI."""

import base64
import hashlib
import json
import os
import struct
import uuid
from datetime import datetime, timedelta, timezone

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import ECKey

VIRTUAL_AAGUID = "01020304-0506-0708-0102-030405060708"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _name(cn: str, ou: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Keys")]
    if ou:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    return x509.Name(parts + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(subject: str, key, issuer_cert=None, issuer_key=None, ca=False, ou=None) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject, ou))
        .issuer_name(issuer_cert.subject if issuer_cert else _name(subject, ou))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


class Pki:
    """A CA that can issue attestation certificates (an authenticator vendor) or sign MDS BLOBs."""

    def __init__(self, name: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = certificate(name, self.key, ca=True)

    def issue(self, subject: str, ou: str | None = None):
        key = ec.generate_private_key(ec.SECP256R1())
        return key, certificate(subject, key, self.cert, self.key, ou=ou)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der_b64(self) -> str:
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()


def mds_blob(root: Pki, entries: list[dict], serial: int = 1) -> bytes:
    """An MDS3 BLOB signed by a leaf of `root`, with the x5c header a real BLOB carries."""
    key, cert = root.issue("Test MDS signer")
    x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in (cert, root.cert)]
    payload = {"legalHeader": "test", "no": serial, "nextUpdate": "2030-01-01", "entries": entries}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return jws.serialize_compact(
        {"alg": "ES256", "typ": "JWT", "x5c": x5c}, json.dumps(payload), ECKey.import_key(pem)
    ).encode()


def mds_entry(
    aaguid: str, vendor: Pki, description: str = "Test Security Key", status: str = "FIDO_CERTIFIED_L1"
) -> dict:
    return {
        "aaguid": aaguid,
        "metadataStatement": {"description": description, "attestationRootCertificates": [vendor.der_b64]},
        "statusReports": [{"status": status, "effectiveDate": "2024-01-01"}],
    }


class SoftAuthenticator:
    def __init__(
        self, aaguid: str = VIRTUAL_AAGUID, attestation: str = "none", vendor: Pki | None = None, synced: bool = False
    ):
        self.aaguid, self.attestation, self.vendor = aaguid, attestation, vendor
        self.synced = synced  # backup eligible and backed up (BE, BS): a passkey synced by a cloud account
        self.credentials: dict[str, dict] = {}  # credential id -> key, user handle, rp id, counter

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()

    def create(self, options: dict, origin: str, *, user_verified: bool = True) -> dict:
        public = options.get("publicKey", options)
        rp_id = public["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        credential_id = os.urandom(32)
        flags = 0x01 | 0x40 | (0x04 if user_verified else 0) | (0x18 if self.synced else 0)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", 0)
            + uuid.UUID(self.aaguid).bytes
            + struct.pack(">H", len(credential_id))
            + credential_id
            + cose
        )
        client_data = self._client_data("webauthn.create", public["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        if self.attestation == "none":
            statement, fmt = {}, "none"
        elif self.attestation == "self":
            statement, fmt = {"alg": -7, "sig": key.sign(signed, ec.ECDSA(hashes.SHA256()))}, "packed"
        else:
            att_key, att_cert = self.vendor.issue("Test Key Attestation", ou="Authenticator Attestation")
            statement = {
                "alg": -7,
                "sig": att_key.sign(signed, ec.ECDSA(hashes.SHA256())),
                "x5c": [att_cert.public_bytes(serialization.Encoding.DER)],
            }
            fmt = "packed"
        cid = b64url(credential_id)
        self.credentials[cid] = {"key": key, "user_handle": public["user"]["id"], "rp_id": rp_id, "count": 0}
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "transports": ["usb"],
                "attestationObject": b64url(cbor2.dumps({"fmt": fmt, "attStmt": statement, "authData": auth_data})),
            },
        }

    def get(self, options: dict, origin: str, *, credential_id: str | None = None, count_step: int = 1) -> dict:
        allowed = [c["id"] for c in options.get("allowCredentials", [])]
        cid = credential_id or next(c for c in self.credentials if not allowed or c in allowed)
        stored = self.credentials[cid]
        stored["count"] += count_step
        auth_data = (
            hashlib.sha256(stored["rp_id"].encode()).digest()
            + bytes([0x05])
            + struct.pack(">I", max(stored["count"], 0))
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = stored["key"].sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": stored["user_handle"],
            },
        }
