"""The Authlib authorization server: grants, PKCE, OpenID Connect, revocation, introspection, logout."""

import secrets
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.grants.code import OpenIDToken
from authlib.oidc.core.grants.util import create_half_hash
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import current_app, g
from sqlalchemy import select

from .. import clock, crypto
from ..claims_once import claim_once
from ..extensions import db
from ..signin import sessions
from . import claims as claim_rules
from . import clients, entra_errors, keys, revocation, tokens
from .clients import resource_audience
from .scopes import Resolved, ScopeError, resolve
from .models import AuthorizationCode, Client, Token


class S256Only(CodeChallenge):
    """PKCE with S256 only (an omitted method would mean `plain`); required for public clients, and
    refused early, at the authorization endpoint, when a public client sends no challenge."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if grant.request.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required for public clients: send code_challenge with S256.")
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256; plain is not supported.")
        super().validate_code_challenge(grant, redirect_uri)


def resolve_scope(client, scope: str | None) -> Resolved:
    try:
        return resolve(scope, client.scopes, lambda uri: resource_audience(client.tenant_id, uri))
    except ScopeError as error:
        raise InvalidScopeError(str(error)) from None


def _check_scope(grant):
    client = grant.request.client
    resolved = resolve_scope(client, grant.request.payload.scope)
    unknown = set(resolved.scopes) - set(client.scopes)
    if unknown:
        raise InvalidScopeError(f"The client may not request: {' '.join(sorted(unknown))}")
    if resolved.resource != tokens.GRAPH_RESOURCE:
        api = db.session.get(Client, resolved.audience)
        hidden = set(resolved.permissions) - set(api.exposed_scopes)
        if hidden:
            raise InvalidScopeError(f"The API does not expose: {' '.join(sorted(hidden))}")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post", "none"]

    def validate_requested_scope(self):
        _check_scope(self)

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
        row = db.session.scalar(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == crypto.digest(code))
            .options(sessions.with_user(AuthorizationCode.session))
        )
        if row is None or row.client_id != client.id:
            return None
        claimed = claim_once(
            AuthorizationCode, AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None), used_at=clock.now()
        )
        db.session.commit()
        if not claimed:  # a replay: what the first redemption issued is revoked (its grant is the code)
            # the grant's revocation row first: concurrent replays then queue on it instead of locking the
            # tokens and that row in opposite orders (a deadlock on PostgreSQL)
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
        row = tokens.find_refresh_token(refresh_token)
        session = sessions.load(row.session_id) if row else None
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
        """Entra's refresh: the scopes may be resent (MSAL does), `<resource>/.default` included, and may name
        another resource the app was granted (a multi-resource refresh token). What the app was not granted
        is refused; the refresh token goes on only when the original grant had offline_access."""
        requested = self.request.payload.scope
        if not requested:
            self.refresh_scope = refresh_token.get_scope()
            return
        _check_scope(self)
        scopes = resolve_scope(self.request.client, requested).scopes
        if "offline_access" in refresh_token.get_scope().split() and "offline_access" not in scopes:
            scopes.append("offline_access")
        self.refresh_scope = " ".join(scopes)

    def issue_token(self, user, refresh_token):
        return self.generate_token(
            user=user, scope=self.refresh_scope, include_refresh_token=self.INCLUDE_NEW_REFRESH_TOKEN
        )

    def authenticate_user(self, refresh_token: Token):
        session = getattr(self, "signin_session", None)
        if session is None or not tokens.session_allows_tokens(session) or not session.user.account_enabled:
            raise entra_errors.entra(
                InvalidGrantError, 50173, "The sign-in session behind this refresh token has ended."
            )
        return tokens.Principal(session.user, session, grant_id=refresh_token.family_id)

    def revoke_old_credential(self, refresh_token):
        pass  # consumed atomically in authenticate_refresh_token


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post"]

    def validate_requested_scope(self):
        scope = self.request.payload.scope or f"{tokens.GRAPH_RESOURCE}/.default"
        if len(scope.split()) != 1 or not scope.endswith("/.default"):
            raise InvalidScopeError("App-only tokens take one scope: the resource's '/.default'.")
        resolve_scope(self.request.client, scope)


class IdToken(OpenIDToken):
    """ID tokens for the code grant and for refresh (Entra returns a fresh id_token on refresh)."""

    def encode_id_token(self, token, request):
        principal: tokens.Principal = request.user
        code = request.authorization_code
        alg = request.client.id_token_signed_response_alg
        now = clock.now()
        expires_at = tokens.capped_expiry(current_app.config["IDP_ID_TOKEN_LIFETIME"], principal.session.not_after)
        claims = claim_rules.id_token_claims(principal, request.client, token["scope"])
        claims.update(
            iat=clock.to_epoch(now),
            nbf=clock.to_epoch(now),
            exp=clock.to_epoch(expires_at),
            uti=secrets.token_urlsafe(16),
        )
        if code is not None and code.nonce:
            claims["nonce"] = code.nonce
        at_hash = create_half_hash(token["access_token"], alg)
        claims["at_hash"] = at_hash.decode()
        return tokens.sign(claims, alg)


class OpenIDCodeExtension(IdToken, OpenIDCode):
    def exists_nonce(self, nonce, request):
        return False  # nonce replay is the client's check; codes are single-use here


class Issuer(IssuerParameter):
    def get_issuer(self):
        return tokens.issuer(g.tenant)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string, token_type_hint):
        if token_type_hint != "access_token":
            row = db.session.scalar(select(Token).where(Token.refresh_token_hash == crypto.digest(token_string)))
            if row or token_type_hint == "refresh_token":
                return row
        return tokens.active_access_token(token_string)

    def revoke_token(self, token, request):
        if isinstance(token, tokens.AccessToken):
            tokens.revoke_access_token(token)  # that token alone, as RFC 7009 asks
        else:
            tokens.revoke_family(token.family_id)  # revoking a refresh token ends its whole grant


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        if token_type_hint != "access_token":
            row = tokens.active_refresh_token(token_string)
            if row or token_type_hint == "refresh_token":
                return ("refresh_token", row) if row else None
        found = tokens.active_access_token(token_string)
        return ("access_token", found) if found else None

    def check_permission(self, token, client, request):
        kind, row = token
        return row.tenant_id == client.tenant_id or row.client_id == client.id  # a multi-tenant app's own token

    def create_introspection_payload(self, token):
        if not token:
            return {"active": False}
        return self.introspect_token(token)

    def introspect_token(self, token):
        kind, row = token
        expires = row.expires_at if kind == "access_token" else row.refresh_expires_at
        payload = {
            "active": True,
            "token_type": kind,
            "client_id": row.client_id,
            "scope": row.scope,
            "exp": clock.to_epoch(expires),
            "iat": clock.to_epoch(row.issued_at),
            "iss": tokens.issuer(row.tenant_id),
            "tid": row.tenant_id,
            "aud": row.audience,
        }
        if row.user_id:
            payload.update(sub=tokens.pairwise_sub(row.user_id, row.client_id), oid=row.user_id)
        return payload


class EndSession(EndSessionEndpoint):
    def get_server_jwks(self):
        return keys.jwks()

    def end_session(self, end_session_request):
        sessions.end_current(g.tenant)  # this browser's session here only, whatever the hint names


class Server(AuthorizationServer):
    def query_client(self, client_id):
        client = clients.find_client(client_id)
        tenant = g.get("tenant")
        if client is None or tenant is None:
            return None
        return client if client.tenant_id == tenant.id or clients.serves_users_of(client, tenant) else None

    def save_token(self, token, request):
        tokens.save_token(token, request)

    def authenticate_client(self, request, methods, endpoint="token"):
        client = super().authenticate_client(request, methods, endpoint)
        g.client_auth_method = request.auth_method  # azpacr / appidacr of the tokens this request gets
        return client

    def handle_error_response(self, request, error):
        """Entra's shape: back to the app's redirect URI with an `AADSTS` description, or its JSON body."""
        if error.redirect_uri:
            return redirect_error(error)
        status, _, headers = error()
        return self.handle_response(status, entra_errors.body(error), [*headers, *entra_errors.response_headers()])


def redirect_error(error):
    """An authorization error sent back to a validated redirect URI, with `iss` (RFC 9207)."""
    from authlib.common.urls import add_params_to_uri
    from flask import redirect

    params = [*entra_errors.redirect_params(error), ("iss", tokens.issuer(g.tenant))]
    return redirect(add_params_to_uri(error.redirect_uri, params, fragment=error.redirect_fragment))


server = Server()
ISSUER = Issuer()


def init_app(app):
    server.init_app(app)
    server.register_token_generator("default", tokens.TokenGenerator())
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True), OpenIDCodeExtension(require_nonce=False)])
    server.register_grant(RefreshTokenGrant, [IdToken()])
    server.register_grant(ClientCredentialsGrant)
    from .grants import certificates

    server.register_client_auth_method("private_key_jwt", certificates.authenticate)
    from .grants.implicit import HybridGrant, ImplicitIdTokenGrant
    from .grants.password import PasswordGrant

    server.register_grant(PasswordGrant, [IdToken()])
    from .grants.obo import OnBehalfOfGrant

    server.register_grant(OnBehalfOfGrant)
    from .grants.device import DeviceCodeGrant

    server.register_grant(DeviceCodeGrant, [IdToken()])
    server.register_grant(ImplicitIdTokenGrant)
    server.register_grant(HybridGrant, [S256Only(required=True)])
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_endpoint(EndSession)
    server.register_extension(ISSUER)  # one instance: its hook is a set member, so a second app adds no second `iss`
