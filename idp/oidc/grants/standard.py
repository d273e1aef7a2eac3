"""The grants of RFC 6749 this server serves besides the extensions beside it: the authorization code (claimed
exactly once; a replay revokes what the first redemption issued), the refresh token (the slices' refresh rules,
rotation exactly once, Entra's multi-resource refresh) and client credentials (one resource's '/.default')."""

import functools
from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidScopeError, OAuth2Error
from flask import current_app
from sqlalchemy import Select, bindparam, select, update

from ... import clock, crypto
from ...claims_once import claim_once
from ...extensions import db
from ...signin import sessions
from .. import claims as claim_rules
from .. import entra_errors, revocation, tokens
from ..clients import check_requested_scope, check_scope, resolve_scope
from ..models import AuthorizationCode, Token


@functools.cache
def _code_with_session() -> Select:
    """Built once, on first use (the mappers are configured by then), so its compiled-cache key is too: every
    code redemption runs it."""
    return (
        select(AuthorizationCode)
        .where(AuthorizationCode.code_hash == bindparam("code_hash"))
        .options(sessions.with_user(AuthorizationCode.session))
    )


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post", "none"]

    def validate_requested_scope(self):
        check_scope(self)

    def save_authorization_code(self, code, request):
        principal: tokens.Principal = request.user
        payload = request.payload.data
        db.session.add(
            AuthorizationCode(
                code_hash=crypto.digest(code),
                client_id=request.client.id,
                user_id=principal.user.id,
                session_id=principal.session.id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope or "",
                nonce=payload.get("nonce"),
                code_challenge=payload.get("code_challenge"),
                code_challenge_method=payload.get("code_challenge_method"),
                acr=principal.acr,
                expires_at=clock.now() + timedelta(seconds=current_app.config["IDP_AUTH_CODE_LIFETIME"]),
            )
        )
        db.session.commit()

    def query_authorization_code(self, code, client):
        """Claim the code exactly once. A second redemption revokes what the first one issued."""
        if not code or len(code) > 256:
            return None
        row = db.session.scalar(_code_with_session(), {"code_hash": crypto.digest(code)})
        if row is None or row.client_id != client.id:
            return None
        claimed = claim_once(
            AuthorizationCode, AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None), used_at=clock.now()
        )
        db.session.commit()
        if not claimed:  # a replay: what the first redemption issued is revoked (its grant is the code)
            # the code's row first (`tokens.hold_unreplayed`): a first redemption still storing its tokens holds
            # it, so they are committed before the revocation looks for them; then the grant's revocation row:
            # concurrent replays queue on these instead of locking the tokens and that row in opposite orders
            # (a deadlock on PostgreSQL)
            db.session.execute(
                update(AuthorizationCode)
                .where(AuthorizationCode.id == row.id)
                .values(used_at=AuthorizationCode.used_at)
                .execution_options(synchronize_session=False)
            )
            revocation.revoke(revocation.GRANT, [row.id])
            tokens.revoke_where(Token.code_id == row.id)
            db.session.commit()
            entra_errors.note(54005)
            return None
        if row.is_expired():
            return None
        return row

    def delete_authorization_code(self, authorization_code):
        pass  # kept, marked used, so that a replay can be detected and answered

    def authenticate_user(self, authorization_code):
        session = authorization_code.session  # loaded with the code
        if session is None or not tokens.session_allows_tokens(session):
            raise entra_errors.entra(InvalidGrantError, 50173, "The sign-in session behind this code has ended.")
        return tokens.Principal(session.user, session, authorization_code.acr, grant_id=authorization_code.id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        """Rules first (they explain a refusal, e.g. an expired TAP), then the exactly-once claim."""
        row, session = tokens.find_refresh_token(refresh_token) or (None, None)
        if session is not None:
            for rule in claim_rules.refresh_rules:
                rule(session, row)
        self.signin_session = session  # held: the identity map alone would let it go and reload it
        if row is not None and (row.revoked_at or row.rotated_at):
            entra_errors.note(50173)
        elif row is not None and row.refresh_expires_at and row.refresh_expires_at <= clock.now():
            entra_errors.note(700082)
        return tokens.consume_refresh_token(row)

    def _validate_token_scope(self, refresh_token):
        self.refresh_scope = refresh_scope(self.request.client, self.request.payload.scope, refresh_token.get_scope())

    def issue_token(self, user, refresh_token):
        return self.generate_token(
            user=user, scope=self.refresh_scope, include_refresh_token=self.INCLUDE_NEW_REFRESH_TOKEN
        )

    def authenticate_user(self, refresh_token: Token):
        session = getattr(self, "signin_session", None)
        if not session_serves(session):
            raise entra_errors.entra(
                InvalidGrantError, 50173, "The sign-in session behind this refresh token has ended."
            )
        return tokens.Principal(session.user, session, grant_id=refresh_token.family_id)

    def revoke_old_credential(self, refresh_token):
        pass  # consumed atomically in authenticate_refresh_token


def refresh_scope(client, requested: str | None, granted: str) -> str:
    """Entra's refresh: the scopes may be resent (MSAL does), `<resource>/.default` included, and may name
    another resource the app was granted (a multi-resource refresh token). What the app was not granted
    is refused; the refresh token goes on only when the original grant had offline_access."""
    if not requested:
        return granted
    check_requested_scope(client, requested)
    scopes = resolve_scope(client, requested).scopes
    if "offline_access" in granted.split() and "offline_access" not in scopes:
        scopes.append("offline_access")
    return " ".join(scopes)


def session_serves(session) -> bool:
    """A refresh token's session still issues tokens: live, within its hard cap, its user enabled."""
    return session is not None and tokens.session_allows_tokens(session) and session.user.account_enabled


def rotates_plainly(row: Token, session) -> bool:
    """Whether a refresh of this token would pass the checks of `RefreshTokenGrant` up to the claim and after
    it, but for the client's and the scope's: live, unused, unexpired, its session serving, every refresh
    rule content. Side-effect free, so that a caller may leave a refusal to the grant, which explains it."""
    if not tokens.refresh_token_unused(row):
        return False
    if session is None or session.user is None or not session_serves(session):
        return False
    try:
        for rule in claim_rules.refresh_rules:
            rule(session, row)
    except OAuth2Error:
        return False
    return True


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post"]

    def validate_requested_scope(self):
        scope = self.request.payload.scope or f"{tokens.GRAPH_RESOURCE}/.default"
        if len(scope.split()) != 1 or not scope.endswith("/.default"):
            raise InvalidScopeError("App-only tokens take one scope: the resource's '/.default'.")
        resolve_scope(self.request.client, scope)
