"""Certificate credentials: `client_assertion` JWTs (private_key_jwt) signed with a certificate's key and naming it
by `x5t` (SHA-1) or `x5t#S256`, as MSAL and azure-identity send them. An assertion is accepted once (`jti`), only
while it is fresh, and only for this token endpoint."""

import base64
import json
from datetime import datetime, timedelta, timezone

from cryptography import x509
from flask import g
from flask import request as flask_request
from cryptography.hazmat.primitives import hashes, serialization
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.exc import IntegrityError

from ... import clock, crypto
from ...extensions import db
from .. import entra_errors
from ..naming import base_url, issuer
from .models import UsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = timedelta(minutes=60)  # what an assertion may claim between its iat/nbf and exp
ALGORITHMS = ["RS256", "PS256", "ES256"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def describe(pem: bytes) -> dict:
    """The stored form of a certificate: its thumbprints, its public PEM and when it expires."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise ValueError("the file is not a PEM certificate") from None
    return {
        "x5t": _b64(cert.fingerprint(hashes.SHA1())),
        "x5t#S256": _b64(cert.fingerprint(hashes.SHA256())),  # noqa: S303
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "not_after": cert.not_valid_after_utc.replace(tzinfo=None).isoformat(),
    }


def token_header(token: str) -> dict:
    try:
        head = token.split(".")[0]
        value = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, IndexError):
        return {}
    return value if isinstance(value, dict) else {}


def named_certificate(client, header: dict) -> dict | None:
    for cert in client.certificates or []:
        for name in ("x5t#S256", "x5t"):
            value = header.get(name)  # MSAL pads the base64url thumbprint; the JOSE form has no padding
            if isinstance(value, str) and crypto.same(value.rstrip("="), cert[name]):
                return cert
    return None


def public_key(cert: dict):
    public = x509.load_pem_x509_certificate(cert["pem"].encode()).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return (ECKey if "EC" in type(public).__name__ else RSAKey).import_key(pem)


def authenticate(query_client, request):
    """Authlib client-auth method `private_key_jwt`. None (and the reason noted) when the assertion fails."""
    form = request.form
    assertion, client_id = form.get("client_assertion"), form.get("client_id")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion or len(assertion) > 16384:
        return None
    claims = _unverified_claims(assertion)
    client_id = client_id or claims.get("sub")
    client = query_client(client_id) if isinstance(client_id, str) else None
    if client is None:
        return None
    entra_errors.note(700027)
    cert = named_certificate(client, token_header(assertion))
    if cert is None or as_naive_utc(cert["not_after"]) <= clock.now():
        return None
    try:
        claims = jwt.decode(assertion, public_key(cert), algorithms=ALGORITHMS).claims
    except (JoseError, ValueError, TypeError):
        return None
    if not _claims_fit(claims, client, request):
        return None
    if not _first_use(claims["jti"][:256], client.id, _seconds(claims["exp"])):
        return None
    g.pop("aadsts", None)
    return client


def as_naive_utc(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment)
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def _unverified_claims(token: str) -> dict:
    try:
        body = token.split(".")[1]
        value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, IndexError):
        return {}
    return value if isinstance(value, dict) else {}


def _claims_fit(claims: dict, client, request) -> bool:
    now = clock.timestamp()
    exp, start = _seconds(claims.get("exp")), _seconds(claims.get("nbf", claims.get("iat")))
    if claims.get("iss") != client.id or claims.get("sub") != client.id or not isinstance(claims.get("jti"), str):
        return False
    if exp is None or exp <= now - 5 or exp > now + MAX_LIFETIME.total_seconds():
        return False
    if start is None or start > now + 300 or exp - start > MAX_LIFETIME.total_seconds():
        return False
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    return any(isinstance(a, str) and a in _token_endpoints(client, request) for a in audiences)


def _seconds(value) -> int | None:
    """A NumericDate (MSAL sends fractions of a second)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _token_endpoints(client, request) -> set[str]:
    """The token endpoint under any name of the tenant (id, verified domain, /organizations) and its issuer."""
    base = base_url()
    return {flask_request.base_url, f"{base}/{client.tenant_id}/oauth2/v2.0/token", issuer(client.tenant_id)}


def _first_use(jti: str, client_id: str, exp: int) -> bool:
    """Record the assertion's id; a second use of it fails on the primary key (also across processes)."""
    now = clock.now()
    db.session.query(UsedAssertion).filter(UsedAssertion.expires_at < now).delete()
    db.session.add(
        UsedAssertion(
            jti_hash=crypto.digest(f"{client_id}:{jti}"),
            client_id=client_id,
            expires_at=datetime.fromtimestamp(exp, timezone.utc).replace(tzinfo=None),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True
