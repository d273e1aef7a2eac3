"""Signing keys: kept in the database, published in the JWKS, rotated by `flask idp rotate-keys`."""

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from flask import current_app
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import or_, select

from .. import cache, clock, crypto
from ..extensions import db
from .models import SigningKey

ALGORITHMS = ("RS256", "ES256")
_signers: dict[str, "Signer"] = {}  # kid -> its signer; a kid's key never changes


def _generate(alg: str) -> SigningKey:
    kid = secrets.token_urlsafe(12)
    params = {"kid": kid, "alg": alg, "use": "sig"}
    key = (
        RSAKey.generate_key(2048, parameters=params)
        if alg == "RS256"
        else ECKey.generate_key("P-256", parameters=params)
    )
    private = json.dumps(key.as_dict(private=True))
    return SigningKey(
        kid=kid,
        alg=alg,
        private_jwk=crypto.seal(private.encode(), "signing-key"),
        public_jwk=key.as_dict(private=False),
    )


def ensure_keys() -> None:
    """Create an active key for every algorithm that has none."""
    for alg in ALGORITHMS:
        if _active_row(alg) is None:
            db.session.add(_generate(alg))
    db.session.commit()


def rotate() -> list[SigningKey]:
    """Add a new active key per algorithm; old keys stop signing but stay published until every token
    they signed has expired."""
    now = clock.now()
    grace = timedelta(
        seconds=max(current_app.config["IDP_ACCESS_TOKEN_LIFETIME"], current_app.config["IDP_ID_TOKEN_LIFETIME"]) + 300
    )
    for row in db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at, row.unpublish_at = now, now + grace
    new_keys = [_generate(alg) for alg in ALGORITHMS]
    db.session.add_all(new_keys)
    db.session.commit()
    forget()
    return new_keys


def forget() -> None:
    """Drop this process's cached key choices and opened private keys (other processes pick a rotation up
    within 30 s)."""
    for name in ("active-kids", "jwks", "keyset", "metadata-responses"):
        cache.named(name).clear()
    _signers.clear()


def _active_row(alg: str) -> SigningKey | None:
    return db.session.scalar(
        select(SigningKey)
        .where(SigningKey.alg == alg, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Signer:
    """An active private key ready to sign: the JWT header it signs under is serialised once."""

    kid: str
    alg: str
    header_segment: bytes  # base64url of {"typ":"JWT","alg":...,"kid":...}, joserfc's member order
    private_key: Any  # the `cryptography` key object


def signing_key(alg: str) -> Signer:
    """The active private key for `alg` (which key is active is cached for 30 s; a just-retired key stays
    published for the tokens' lifetime, so signing with it meanwhile is safe)."""
    kid = cache.named("active-kids").get(alg, lambda: _active_kid(alg))
    signer = _signers.get(kid)
    if signer is None:
        row = db.session.get(SigningKey, kid)
        data = json.loads(crypto.unseal(row.private_jwk, "signing-key"))
        key = (RSAKey if alg == "RS256" else ECKey).import_key(data)
        header = json.dumps({"typ": "JWT", "alg": alg, "kid": kid}, separators=(",", ":")).encode()
        signer = Signer(kid, alg, _b64(header), key.get_op_key("sign"))
        _signers[kid] = signer
    return signer


def sign_jwt(claims: dict, alg: str) -> str:
    """A compact JWS of `claims` with the active key: byte for byte what joserfc's jwt.encode gives (RS256 is
    deterministic), without its per-call header, registry and key-operation checks."""
    signer = signing_key(alg)
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    signing_input = signer.header_segment + b"." + _b64(payload)
    if alg == "RS256":
        signature = signer.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:  # ES256: JWS wants r || s, 32 bytes each, not DER
        r, s = decode_dss_signature(signer.private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return (signing_input + b"." + _b64(signature)).decode()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _active_kid(alg: str) -> str:
    row = _active_row(alg)
    if row is None:
        ensure_keys()
        row = _active_row(alg)
    return row.kid


def published_rows() -> list[SigningKey]:
    now = clock.now()
    return list(
        db.session.scalars(
            select(SigningKey)
            .where(or_(SigningKey.unpublish_at.is_(None), SigningKey.unpublish_at > now))
            .order_by(SigningKey.created_at)
        )
    )


def jwks() -> dict:
    """The published public keys (cached for 30 s)."""
    return cache.named("jwks").get("all", lambda: {"keys": [row.public_jwk for row in published_rows()]})


def jwks_document() -> bytes:
    """The JWKS as served: serialized once, kept and cleared with the key set."""
    return cache.named("jwks").get("document", lambda: json.dumps(jwks()).encode())


def public_keyset(fresh: bool = False) -> KeySet:
    """Keys to verify our own tokens with. `fresh` skips the cache: a token signed by a key that another
    process created in the last seconds names a kid this process has not loaded yet."""
    if fresh:
        forget()
    return cache.named("keyset").get("all", lambda: KeySet.import_key_set(jwks()))
