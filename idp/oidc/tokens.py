"""Issuing and checking tokens.

Access and ID tokens are JWTs signed with the active key of the client's algorithm. Access tokens are not
stored (as Entra's): this server checks its own ones (Graph API, userinfo, introspection) by signature, expiry
and the revocation state (`revocation.py`: sign-out, a deleted pass, refresh reuse, code replay, ...). Refresh
tokens are opaque random strings stored only as hashes, one row per token, rotated exactly once. Every token
issued from a sign-in session expires no later than the session's `not_after` (a TAP's or a guest session's end).
"""

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app, g, request
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock, crypto, dbpool
from ..claims_once import claimed
from ..inputs import load_json
from ..directory.models import User, new_id
from ..extensions import db
from ..signin.models import SigninSession
from . import claims as claim_rules
from . import entra_errors, keys, revocation
from .clients import resolve_scope, unconsented
from .models import AuthorizationCode, Client, Token, TokenRevocation
from .naming import issuer, pairwise_sub
from .scopes import GRAPH_RESOURCE, OIDC_SCOPES

TOKENS = Token.__table__  # statements on the hot path use the table: the ORM's statement machinery costs more
_INSERT_TOKEN = insert(TOKENS)
# A refresh's one read: the token, its session and the session's user (their roles are not needed here).
_REFRESH_TOKEN_BY_HASH = (
    select(Token, SigninSession, User)
    .outerjoin(SigninSession, SigninSession.id == Token.session_id)
    .outerjoin(User, User.id == SigninSession.user_id)
    .where(Token.refresh_token_hash == bindparam("hash"))
    .options(lazyload(User.role_assignments))  # read on first use only (a refresh has none)
)
# Unrevoked too: a token whose family a concurrent reuse revoked after it was read must not rotate.
_CLAIM_ROTATION = (
    update(TOKENS)
    .where(TOKENS.c.id == bindparam("token_id"), TOKENS.c.rotated_at.is_(None), TOKENS.c.revoked_at.is_(None))
    .values(rotated_at=bindparam("now"))
)
_REVOKE_FAMILY = (
    update(TOKENS)
    .where(TOKENS.c.family_id == bindparam("family"), TOKENS.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
_INTROSPECTED = "tenant_id client_id user_id scope audience issued_at refresh_expires_at rotated_at revoked_at".split()
_SESSIONS = SigninSession.__table__
# Introspection's one statement: the columns its answer names, and the session's revocation and hard cap.
_LIVE_REFRESH_TOKEN = (
    select(
        *(TOKENS.c[name] for name in _INTROSPECTED),
        _SESSIONS.c.revoked_at.label("session_revoked_at"),
        _SESSIONS.c.not_after.label("session_not_after"),
    )
    .select_from(TOKENS.outerjoin(_SESSIONS, _SESSIONS.c.id == TOKENS.c.session_id))
    .where(TOKENS.c.refresh_token_hash == bindparam("hash"))
)


@dataclass
class Principal:
    """The resource owner as Authlib sees it: a user and the sign-in session behind the grant."""

    user: User
    session: SigninSession
    acr: str | None = None  # the authentication strength this grant required and met
    grant_id: str | None = None  # the grant its tokens belong to: the code's id, kept by every refresh after it

    def get_user_id(self):
        return self.user.id


def capped_expiry(lifetime_seconds: int, not_after: datetime | None) -> datetime:
    expiry = clock.now() + timedelta(seconds=lifetime_seconds)
    return min(expiry, not_after) if not_after else expiry


def id_token_claims(principal: "Principal", client, scope: str) -> dict:
    """An ID token's claims with its times; it expires no later than the session behind it."""
    now = clock.now()
    expires_at = capped_expiry(current_app.config["IDP_ID_TOKEN_LIFETIME"], principal.session.not_after)
    claims = claim_rules.id_token_claims(principal, client, scope)
    claims.update(
        iat=clock.to_epoch(now), nbf=clock.to_epoch(now), exp=clock.to_epoch(expires_at), uti=secrets.token_urlsafe(16)
    )
    return claims


def session_allows_tokens(session: SigninSession | None) -> bool:
    """Tokens outlive the browser SSO cookie, but never a revoked session or its hard cap."""
    if session is None:
        return True
    return session_state_allows_tokens(session.revoked_at, session.not_after)


def session_state_allows_tokens(revoked_at: datetime | None, not_after: datetime | None) -> bool:
    return revoked_at is None and (not_after is None or clock.now() < not_after)


def sign(claims: dict, alg: str) -> str:
    return keys.sign_jwt(claims, alg)


def _names_an_unloaded_key(token: str) -> bool:
    try:
        header = load_json(base64.urlsafe_b64decode(token.split(".")[0] + "=" * (-len(token.split(".")[0]) % 4)))
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

    def __call__(self, grant_type, client: Client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        client_info = request.form.get("client_info") == "1"
        return issue(client, user, scope or "", grant_type, include_refresh_token, client_info)


def issue(
    client: Client,
    principal: "Principal | None",
    scope: str,
    grant_type: str,
    include_refresh_token: bool = True,
    client_info: bool = False,
) -> dict:
    """The token response of every grant: a signed access token (never stored) and, for a user's grant with
    offline_access, a refresh token that `save_token` stores; `client_info` when the request asked for it
    (MSAL's client_info=1). The one place tokens are made: new grants and claims extend this."""
    cfg = current_app.config
    session = principal.session if principal else None
    not_after = session.not_after if session else None
    now = clock.now()
    if not_after and not_after <= now:
        from authlib.oauth2.rfc6749.errors import InvalidGrantError

        raise InvalidGrantError("The sign-in session behind this grant has ended.")
    if principal is not None:
        refuse_unconsented(client, principal.user.tenant_id, scope)
    expires_at = capped_expiry(cfg["IDP_ACCESS_TOKEN_LIFETIME"], not_after)
    jti = secrets.token_urlsafe(16)
    claims = access_claims(client, principal, scope, jti, now, expires_at, grant_type)
    lifetime = int((expires_at - now).total_seconds())
    token = {
        "token_type": "Bearer",
        "access_token": sign(claims, client.id_token_signed_response_alg),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "scope": scope,
    }
    refresh = None
    if principal and include_refresh_token and "offline_access" in scope.split():
        refresh = secrets.token_urlsafe(48)
        token["refresh_token"] = refresh
    if principal and client_info:  # MSAL's account key: uid.utid
        info = json.dumps({"uid": principal.user.id, "utid": principal.user.tenant_id}).encode()
        token["client_info"] = base64.urlsafe_b64encode(info).rstrip(b"=").decode()
    g.issued_token = {
        "jti": jti,
        "expires_at": expires_at,
        "audience": claims["aud"],
        "refresh_hash": crypto.digest(refresh) if refresh else None,
        "refresh_expires_at": capped_expiry(cfg["IDP_REFRESH_TOKEN_LIFETIME"], not_after) if refresh else None,
    }
    return token


def refuse_unconsented(client, user_tenant_id: str, scope: str | None, error_class=None, **kwargs) -> None:
    """AADSTS65001 when a user of another tenant is asked for permissions only that tenant's admin could
    grant (every user token passes here; the authorize endpoint asks first, to answer the app at once)."""
    from authlib.oauth2.rfc6749.errors import InvalidGrantError

    missing = unconsented(client, user_tenant_id, resolve_scope(client, scope).scopes)
    if missing:
        raise entra_errors.entra(
            error_class or InvalidGrantError,
            65001,
            f"The app belongs to another organization, and yours has not granted it: {' '.join(missing)[:300]}.",
            **kwargs,
        )


def issuing_tenant(client, principal) -> str:
    """A user's token is issued by the tenant the user signed in to (a multi-tenant app's users come from
    many); an app-only token by the app's own tenant."""
    return principal.user.tenant_id if principal else client.tenant_id


def access_claims(client, principal, scope, jti, now, expires_at, grant_type) -> dict:
    if principal:
        resolved = resolve_scope(client, scope)
    else:  # app-only: the resource of the '/.default' request, the client's roles on it
        resolved = resolve_scope(client, scope or f"{GRAPH_RESOURCE}/.default")  # the grant's requested scope
    tenant_id = issuing_tenant(client, principal)
    client_acr = claim_rules.client_acr()
    claims = {
        "aud": resolved.audience,
        "iss": issuer(tenant_id),
        "iat": clock.to_epoch(now),
        "nbf": clock.to_epoch(now),
        "exp": clock.to_epoch(expires_at),
        "jti": jti,
        "uti": jti,
        "tid": tenant_id,
        "azp": client.id,
        "appid": client.id,
        "ver": "2.0",
        "azpacr": client_acr,
        "appidacr": client_acr,
    }
    if principal:
        user, session = principal.user, principal.session
        claims.update(
            sub=pairwise_sub(user.id, client.id),
            oid=user.id,
            sid=session.id,
            scp=" ".join(resolved.permissions) or " ".join(s for s in scope.split() if s in OIDC_SCOPES),
            preferred_username=user.upn,
            amr=session.amr,
            idtyp="user",
        )
        if principal.grant_id:
            claims["rh"] = principal.grant_id  # the grant, so that its revocation reaches this token
    else:
        prefix = "" if resolved.resource == GRAPH_RESOURCE else resolved.resource + "/"
        roles = [
            p[len(prefix) :] for p in client.app_permissions if (p.startswith(prefix) if prefix else "://" not in p)
        ]
        claims.update(sub=client.id, oid=client.id, roles=roles, idtyp="app")
    return claims


def save_token(token: dict, request) -> None:
    """Authlib save_token hook: store the refresh token, if one was issued."""
    previous = getattr(request, "refresh_token", None)
    store_issued(token, request.client, request.user, previous, getattr(request, "authorization_code", None))


def store_issued(token: dict, client: Client, principal: Principal, previous: Token | None = None, code=None) -> None:
    """Store the refresh token that `issue` made, if any, and commit. Access tokens are not stored, so an
    app-only grant or a user's grant without offline_access writes nothing."""
    issued = g.pop("issued_token")
    if code is not None:
        hold_unreplayed(code)
    if not issued["refresh_hash"]:
        if code is not None:
            db.session.commit()  # releases the code's row lock (`hold_unreplayed`)
        return
    row = dict(
        id=new_id(),
        jti=issued["jti"],
        tenant_id=issuing_tenant(client, principal),
        client_id=client.id,
        user_id=principal.user.id,
        session_id=principal.session.id,
        code_id=code.id if code else (previous.code_id if previous else None),
        family_id=principal.grant_id or secrets.token_hex(16),
        scope=token.get("scope", ""),
        audience=issued["audience"],
        issued_at=clock.now(),
        expires_at=issued["expires_at"],
        refresh_token_hash=issued["refresh_hash"],
        refresh_expires_at=issued["refresh_expires_at"],
    )
    # the claim of the token it replaces (claim_rotation) commits with this INSERT: one transaction
    db.session.connection().execute(_INSERT_TOKEN, row)
    db.session.commit()


_CODES = AuthorizationCode.__table__
_HOLD_CODE = update(_CODES).where(_CODES.c.id == bindparam("code_id")).values(used_at=_CODES.c.used_at)
_GRANT_REVOKED = select(TokenRevocation.subject).where(TokenRevocation.subject == bindparam("subject"))


def hold_unreplayed(code: AuthorizationCode) -> None:
    """Lock the redeemed code's row until the tokens of its redemption are stored (the caller commits), and
    refuse them if a replay already ran: a replay takes the same lock before it revokes by `Token.code_id`, so
    it either sees the stored tokens or is seen here, never neither (a replay between the claim and the
    INSERT would otherwise leave the refresh token it never saw alive)."""
    connection = db.session.connection()
    connection.execute(_HOLD_CODE, {"code_id": code.id})
    if connection.execute(_GRANT_REVOKED, {"subject": f"{revocation.GRANT}:{code.id}"}).first() is not None:
        from authlib.oauth2.rfc6749.errors import InvalidGrantError

        db.session.rollback()
        raise entra_errors.entra(InvalidGrantError, 54005)


def find_refresh_token(refresh_token: str) -> "tuple[Token, SigninSession | None] | None":
    """A refresh token's row and its session, the session's user attached, in one statement."""
    if not refresh_token or len(refresh_token) > 512:
        return None
    found = db.session.execute(_REFRESH_TOKEN_BY_HASH, {"hash": crypto.digest(refresh_token)}).first()
    if found is None:
        return None
    row, session, user = found
    if session is not None:
        set_committed_value(session, "user", user)  # read with it: no lazy load
    return row, session


def consume_refresh_token(row: Token | None) -> Token | None:
    """Claim a refresh token (as found by `find_refresh_token`) for rotation, exactly once. A second use of a
    rotated token is treated as theft: the whole family is revoked, and the caller gets nothing."""
    if row is None:
        return None
    now = clock.now()
    if row.revoked_at or (row.refresh_expires_at and row.refresh_expires_at <= now):
        return None
    token_id, family_id = row.id, row.family_id
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            if claim_rotation(row):
                return row
            revoke_family(family_id)
            return None
        except DBAPIError as error:
            # concurrent reuses revoking one family while its rotation commits can deadlock on PostgreSQL
            # (the token rows and the grant's revocation row); the victim rolls back and tries again, so it
            # answers as a reuse (invalid_grant), not as an unavailable database (503)
            if attempt == DEADLOCK_RETRIES or not is_deadlock(error):
                raise
            db.session.rollback()
            row = db.session.get(Token, token_id)
            if row is None:
                return None
    return None


DEADLOCK_RETRIES = 3


def is_deadlock(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in ("40P01", "40001")  # deadlock_detected, serialization_failure


def claim_rotation(row: Token) -> bool:
    """Mark a live refresh token rotated, exactly once; False when a concurrent use claimed it first (or a
    reuse revoked it). The claim commits with the successor's INSERT (`store_issued`): until then it holds
    the row lock, so a concurrent use of the same token waits and then finds it claimed; if issuing fails,
    both roll back."""
    now = clock.now()
    if not claimed(_CLAIM_ROTATION, {"token_id": row.id, "now": now}):
        return False
    set_committed_value(row, "rotated_at", now)  # as the claim wrote it: nothing left to flush
    return True


def revoke_family(family_id: str) -> None:
    """End a grant: its refresh tokens and every access token issued from it.

    The grant's revocation row comes first, so concurrent reuses queue on it (no deadlock on the tokens), and
    again last, so its time covers an access token that a concurrent rotation issued meanwhile. The UPDATE
    repeats until it finds nothing: a rotation that committed while it waited for a row lock added a successor
    that its snapshot did not hold. A rotation needs an unrevoked token, so none can follow the last round."""
    revocation.revoke(revocation.GRANT, [family_id])
    connection = db.session.connection()
    while connection.execute(_REVOKE_FAMILY, {"family": family_id, "now": clock.now()}).rowcount:
        pass
    revocation.revoke(revocation.GRANT, [family_id])
    db.session.commit()


def revoke_where(*criteria) -> int:
    """Revoke the refresh tokens that match, and the access tokens of their grants; the caller commits."""
    families = db.session.scalars(select(Token.family_id).where(*criteria).distinct()).all()
    revocation.revoke(revocation.GRANT, families)
    return db.session.execute(
        update(Token).where(*criteria, Token.revoked_at.is_(None)).values(revoked_at=clock.now())
    ).rowcount


@dataclass
class AccessToken:
    """A verified access token of this server, seen through its claims (it is not stored)."""

    claims: dict

    @property
    def tenant_id(self) -> str:
        return self.claims["tid"]

    @property
    def client_id(self) -> str:
        return self.claims["azp"]

    @property
    def user_id(self) -> str | None:
        return self.claims.get("oid") if self.claims.get("idtyp") == "user" else None

    @property
    def grant_id(self) -> str | None:
        return self.claims.get("rh")

    @property
    def scope(self) -> str:
        return self.claims.get("scp") or " ".join(self.claims.get("roles") or [])

    @property
    def audience(self) -> str:
        return self.claims["aud"]

    @property
    def issued_at(self) -> datetime:
        return datetime.fromtimestamp(self.claims["iat"], timezone.utc).replace(tzinfo=None)

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.claims["exp"], timezone.utc).replace(tzinfo=None)

    def check_client(self, client) -> bool:  # Authlib's revocation endpoint
        return client.id == self.client_id


def active_access_token(token: str) -> AccessToken | None:
    """A valid access token of this server: signature, expiry, shape, and not revoked (no database read
    but the revocation state's poll, at most one per process per sync interval)."""
    claims = decode(token)
    if not claims or not isinstance(claims.get("iat"), int) or claims.get("idtyp") not in ("user", "app"):
        return None
    if not all(isinstance(claims.get(name), str) for name in ("jti", "tid", "azp", "aud", "oid")):
        return None
    if revocation.is_revoked(claims):
        return None
    return AccessToken(claims)


def granted_scope(token: AccessToken) -> str:
    """Every scope of the grant behind a user's access token, the OIDC ones included (`scp` names only the
    resource's permissions, as Entra's does): userinfo answers by them. The grant is the authorization code."""
    code = db.session.get(AuthorizationCode, token.grant_id) if token.grant_id else None
    return code.scope if code is not None else token.scope


def revoke_access_token(token: AccessToken) -> None:
    revocation.revoke(revocation.TOKEN, [token.claims["jti"]], until=token.expires_at)
    db.session.commit()


def refresh_token_unused(row) -> bool:
    """Neither revoked, nor rotated, nor expired: a refresh token a rotation or an introspection may accept."""
    expires = row.refresh_expires_at
    return not (row.revoked_at or row.rotated_at or (expires and expires <= clock.now()))


def active_refresh_token(token: str) -> Any | None:
    """A live refresh token's introspected columns, its session's state read in the same statement (introspection's
    one query, built once)."""
    if not token or len(token) > 512:
        return None
    row = dbpool.read_first(_LIVE_REFRESH_TOKEN, {"hash": crypto.digest(token)})
    if row is None or not refresh_token_unused(row):
        return None
    return row if session_state_allows_tokens(row.session_revoked_at, row.session_not_after) else None
