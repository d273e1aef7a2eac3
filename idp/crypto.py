"""Secrets at rest and secret comparison.

Sealed values are AES-GCM with a key kept outside the database (instance/encryption.key or
IDP_ENCRYPTION_KEYS). Each sealed value names its key id, so keys can be rotated: new values use the
first key, old values stay readable while their key is still listed.
"""

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app


def _keys() -> dict[str, bytes]:
    keys: dict[str, bytes] = current_app.config["IDP_ENCRYPTION_KEYS"]
    return keys


def seal(plaintext: bytes, context: str) -> str:
    """Encrypt `plaintext`; `context` (e.g. "signing-key") is bound as associated data."""
    key_id, key = next(iter(_keys().items()))
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, context.encode())
    return f"v1.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(token: str, context: str) -> bytes:
    _, key_id, blob = token.split(".", 2)
    raw = base64.urlsafe_b64decode(blob)
    return AESGCM(_keys()[key_id]).decrypt(raw[:12], raw[12:], context.encode())


def new_key() -> str:
    """A key line for IDP_ENCRYPTION_KEYS / instance/encryption.key: `<id>:<base64 key>`."""
    return f"{secrets.token_hex(4)}:{base64.urlsafe_b64encode(AESGCM.generate_key(256)).decode()}"


def parse_keys(text: str) -> dict[str, bytes]:
    keys = {}
    for line in text.replace(",", "\n").splitlines():
        if line.strip():
            key_id, b64 = line.strip().split(":", 1)
            keys[key_id] = base64.urlsafe_b64decode(b64)
    return keys


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (client secrets, codes, refresh tokens): enough for lookup by hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def keyed_digest(secret: str, purpose: str) -> str:
    """HMAC-SHA256 of a short secret (TAP, email code) under a key that lives outside the database, so a
    dump of the database alone does not allow guessing codes offline. Names its key for rotation."""
    key_id, key = next(iter(_keys().items()))
    mac = hmac.new(key, f"{purpose}:{secret}".encode(), hashlib.sha256).hexdigest()
    return f"{key_id}${mac}"


def keyed_verify(stored: str, secret: str, purpose: str) -> bool:
    key_id, _, mac = stored.partition("$")
    key = _keys().get(key_id)
    if key is None:
        return False
    expected = hmac.new(key, f"{purpose}:{secret}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, mac)
