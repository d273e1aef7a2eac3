"""The signed messages of the authenticator protocol (see docs/authenticator-protocol.md).

A device holds an ECDSA P-256 key pair made when it pairs; the server keeps the public key. Every message
is a few lines of UTF-8 text signed with ECDSA over SHA-256 (DER signature), sent base64url-encoded.
"""

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

VERSION = "idp-authenticator-v1"
SKEW_SECONDS = 300  # a poll's timestamp may be this far from the server's clock


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pairing_message(code: str) -> bytes:
    return f"{VERSION}\npair\n{code}".encode()


def poll_message(device_id: str, timestamp: int) -> bytes:
    return f"{VERSION}\npoll\n{device_id}\n{timestamp}".encode()


def response_message(request_id: str, nonce: str, decision: str, number) -> bytes:
    return f"{VERSION}\nrespond\n{request_id}\n{nonce}\n{decision}\n{'' if number is None else number}".encode()


def load_public_key(text) -> ec.EllipticCurvePublicKey | None:
    """A P-256 public key from base64url SubjectPublicKeyInfo DER, or None."""
    if not isinstance(text, str) or len(text) > 400:
        return None
    try:
        key = serialization.load_der_public_key(unb64url(text))
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1) else None


def verify(public_key_text: str, signature, message: bytes) -> bool:
    key = load_public_key(public_key_text)
    if key is None or not isinstance(signature, str) or len(signature) > 200:
        return False
    try:
        key.verify(unb64url(signature), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# --- the device's side (the simulator uses it; a mobile app does the same) --------------------------------


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    return b64url(key.sign(message, ec.ECDSA(hashes.SHA256())))
