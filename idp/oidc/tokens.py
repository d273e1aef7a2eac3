"""Issuing and checking tokens.

Access and ID tokens are JWTs signed with the active key of the client's algorithm. Refresh tokens are
opaque random strings stored only as hashes. Every token issued from a sign-in session expires no later
than the session's `not_after` (a TAP's or a guest session's end).
"""
import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, request
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock, crypto
from ..directory.models import Tenant, User, new_id
from ..extensions import db
from ..signin.models import SigninSession
from . import keys
from .models import Client, Token

from .scopes import GRAPH_RESOURCE, OIDC_SCOPES


@dataclass
class Principal:
    """The resource owner as Authlib sees it: a user and the sign-in session behind the grant."""

    user: User
    session: SigninSession
    acr: str | None = None  # the authentication strength this grant required and met

    def get_user_id(self):
        return self.user.id


def base_url() -> str:
    return (current_app.config.get("IDP_BASE_URL") or request.url_root).rstrip("/")


def issuer(tenant: Tenant | str) -> str:
    tenant_id = tenant if isinstance(tenant, str) else tenant.id
    return f"{base_url()}/{tenant_id}/v2.0"


def pairwise_sub(user_id: str, client_id: str) -> str:
    """Entra's `sub` is pairwise: stable per user and app, different between apps."""
    digest = hashlib.sha256(f"{user_id}:{client_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def capped_expiry(lifetime_seconds: int, not_after: datetime | None) -> datetime:
    expiry = clock.now() + timedelta(seconds=lifetime_seconds)
    return min(expiry, not_after) if not_after else expiry


def session_allows_tokens(session: SigninSession | None) -> bool:
    """Tokens outlive the browser SSO cookie, but never a revoked session or its hard cap."""
    if session is None:
        return True
    return session.revoked_at is None and (session.not_after is None or clock.now() < session.not_after)


def sign(claims: dict, alg: str) -> str:
    key = keys.signing_key(alg)
    return jwt.encode({"alg": alg, "typ": "JWT", "kid": key.kid}, claims, key, algorithms=[alg])


def _names_an_unloaded_key(token: str) -> bool:
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=" * (-len(token.split(".")[0]) % 4)))
    except (ValueError, TypeError):
        return False
    kid = header.get("kid") if isinstance(header, dict) else None
    return isinstance(kid, str) and kid not in {k.get("kid") for k in keys.jwks()["keys"]}


def decode(token: str, audience: str | None = None) -> dict | None:
    """Verify a JWT this server signed; None when the signature, issuer shape or times are wrong."""
    if not token or len(token) > 8192:
        return None
    try:
        decoded = jwt.decode(token, keys.public_keyset(), algorithms=list(keys.ALGORITHMS))
    except (JoseError, ValueError, TypeError):
        if not _names_an_unloaded_key(token):
            return None
        try:  # signed by a key another process created since this one loaded its keys
            decoded = jwt.decode(token, keys.public_keyset(fresh=True), algorithms=list(keys.ALGORITHMS))
        except (JoseError, ValueError, TypeError):
            return None
    claims = decoded.claims
    now = clock.timestamp()
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now - 5:
        return None
    if audience and claims.get("aud") != audience:
        return None
    return claims


class TokenGenerator:
    """Authlib token generator: builds the response and remembers what save_token must store."""

    def __call__(self, grant_type, client: Client, user=None, scope=None, expires_in=None,
                 include_refresh_token=True):
        cfg = current_app.config
        principal: Principal | None = user
        session = principal.session if principal else None
        not_after = session.not_after if session else None
        if not_after and not_after <= clock.now():
            from authlib.oauth2.rfc6749.errors import InvalidGrantError
            raise InvalidGrantError("The sign-in session behind this grant has ended.")
        now = clock.now()
        expires_at = capped_expiry(cfg["IDP_ACCESS_TOKEN_LIFETIME"], not_after)
        jti = secrets.token_urlsafe(16)
        scope = scope or ""
        claims = self._access_claims(client, principal, scope, jti, now, expires_at, grant_type)
        token = {
            "token_type": "Bearer",
            "access_token": sign(claims, client.id_token_signed_response_alg),
            "expires_in": int((expires_at - now).total_seconds()),
            "ext_expires_in": int((expires_at - now).total_seconds()),
            "scope": scope,
        }
        refresh = None
        if principal and include_refresh_token and "offline_access" in scope.split():
            refresh = secrets.token_urlsafe(48)
            token["refresh_token"] = refresh
        if principal and request.form.get("client_info") == "1":  # MSAL's account key: uid.utid
            info = json.dumps({"uid": principal.user.id, "utid": principal.user.tenant_id}).encode()
            token["client_info"] = base64.urlsafe_b64encode(info).rstrip(b"=").decode()
        g.issued_token = {
            "jti": jti, "expires_at": expires_at, "audience": claims["aud"],
            "refresh_hash": crypto.digest(refresh) if refresh else None,
            "refresh_expires_at": capped_expiry(cfg["IDP_REFRESH_TOKEN_LIFETIME"], not_after) if refresh else None,
        }
        return token

    @staticmethod
    def _access_claims(client, principal, scope, jti, now, expires_at, grant_type) -> dict:
        from .server import resolve_scope
        if principal:
            resolved = resolve_scope(client, scope)
        else:  # app-only: the resource of the '/.default' request, the client's roles on it
            resolved = resolve_scope(client, request.form.get("scope") or f"{GRAPH_RESOURCE}/.default")
        claims = {
            "aud": resolved.audience, "iss": issuer(client.tenant_id), "iat": clock.to_epoch(now),
            "nbf": clock.to_epoch(now), "exp": clock.to_epoch(expires_at), "jti": jti, "uti": jti,
            "tid": client.tenant_id, "azp": client.id, "appid": client.id, "ver": "2.0",
        }
        if principal:
            user, session = principal.user, principal.session
            claims.update(sub=pairwise_sub(user.id, client.id), oid=user.id, sid=session.id,
                          scp=" ".join(resolved.permissions) or " ".join(s for s in scope.split() if s in OIDC_SCOPES),
                          preferred_username=user.upn, amr=session.amr, idtyp="user")
        else:
            prefix = "" if resolved.resource == GRAPH_RESOURCE else resolved.resource + "/"
            roles = [p[len(prefix):] for p in client.app_permissions
                     if (p.startswith(prefix) if prefix else "://" not in p)]
            claims.update(sub=client.id, oid=client.id, roles=roles, idtyp="app")
        return claims


def save_token(token: dict, request) -> None:
    """Authlib save_token hook: store the issued token (the response never carries our bookkeeping)."""
    issued = g.pop("issued_token")
    principal: Principal | None = request.user if isinstance(request.user, Principal) else None
    previous = getattr(request, "refresh_token", None)
    code = getattr(request, "authorization_code", None)
    row = dict(
        id=new_id(), jti=issued["jti"], tenant_id=request.client.tenant_id, client_id=request.client.id,
        user_id=principal.user.id if principal else None,
        session_id=principal.session.id if principal else None,
        code_id=code.id if code else (previous.code_id if previous else None),
        family_id=previous.family_id if previous else secrets.token_hex(16),
        scope=token.get("scope", ""), audience=issued["audience"], issued_at=clock.now(),
        expires_at=issued["expires_at"], refresh_token_hash=issued["refresh_hash"],
        refresh_expires_at=issued["refresh_expires_at"])
    _insert_token(row, alone=principal is None)
    if previous is not None and _family_revoked(previous.family_id):
        # a concurrent reuse of the same refresh token revoked the family while this one was issued:
        # insert first, then check, so that one of the two always sees the other
        revoke_family(previous.family_id)


def _insert_token(row: dict, alone: bool) -> None:
    """One INSERT. An app-only token is `alone`: nothing else the request does must commit with it, so the
    INSERT commits by itself, which spares the BEGIN and COMMIT round trips on the busiest grant."""
    statement = insert(Token).values(**row)
    if not alone:
        db.session.execute(statement)
        db.session.commit()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(statement)


def _family_revoked(family_id: str) -> bool:
    return db.session.scalar(select(Token.id).where(Token.family_id == family_id, Token.revoked_at.is_not(None))
                             .limit(1)) is not None


def find_refresh_token(refresh_token: str) -> Token | None:
    if not refresh_token or len(refresh_token) > 512:
        return None
    return db.session.scalar(select(Token).where(Token.refresh_token_hash == crypto.digest(refresh_token)))


def consume_refresh_token(row: Token | None) -> Token | None:
    """Claim a refresh token (as found by `find_refresh_token`) for rotation, exactly once. A second use of a
    rotated token is treated as theft: the whole family is revoked, and the caller gets nothing."""
    if row is None:
        return None
    now = clock.now()
    if row.revoked_at or (row.refresh_expires_at and row.refresh_expires_at <= now):
        return None
    # The claim commits with the successor's INSERT (save_token): until then it holds the row lock, so a
    # concurrent use of the same token waits here and then finds it claimed; if issuing fails, both roll back.
    claimed = db.session.execute(update(Token).where(Token.id == row.id, Token.rotated_at.is_(None))
                                 .values(rotated_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        revoke_family(row.family_id)
        return None
    set_committed_value(row, "rotated_at", now)  # as the claim wrote it: nothing left to flush
    return row


def revoke_family(family_id: str) -> None:
    db.session.execute(update(Token).where(Token.family_id == family_id, Token.revoked_at.is_(None))
                       .values(revoked_at=clock.now()))
    db.session.commit()


def revoke_where(*criteria) -> int:
    count = db.session.execute(update(Token).where(*criteria, Token.revoked_at.is_(None))
                               .values(revoked_at=clock.now())).rowcount
    return count


def active_access_token(token: str) -> tuple[dict, Token] | None:
    """Claims and row of a valid access token: signature, expiry, not revoked, session still allows it."""
    claims = decode(token)
    if not claims or not claims.get("jti"):
        return None
    row = db.session.scalar(select(Token).where(Token.jti == claims["jti"]))
    if row is None or row.revoked_at or row.is_expired():
        return None
    if row.session_id and not session_allows_tokens(db.session.get(SigninSession, row.session_id)):
        return None
    return claims, row


def active_refresh_token(token: str) -> Token | None:
    row = find_refresh_token(token)
    if row is None or row.revoked_at or row.rotated_at or row.refresh_expires_at <= clock.now():
        return None
    if row.session_id and not session_allows_tokens(db.session.get(SigninSession, row.session_id)):
        return None
    return row
