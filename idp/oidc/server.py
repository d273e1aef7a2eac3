"""The Authlib authorization server: grants, PKCE, OpenID Connect, revocation, introspection, logout."""

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.grants.code import OpenIDToken
from authlib.oidc.core.grants.util import create_half_hash
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import g
from sqlalchemy import select

from .. import clock, crypto
from ..extensions import db
from ..signin import sessions
from . import clients, entra_answers, entra_errors, keys, naming, tokens
from .grants import certificates
from .grants.device import DeviceCodeGrant
from .grants.implicit import HybridGrant, ImplicitIdTokenGrant
from .grants.obo import OnBehalfOfGrant
from .grants.password import PasswordGrant
from .grants.standard import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant
from .models import Token


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


class IdToken(OpenIDToken):
    """ID tokens for the code grant and for refresh (Entra returns a fresh id_token on refresh)."""

    def encode_id_token(self, token, request):
        return id_token(token, request.client, request.user, request.authorization_code)


def id_token(token: dict, client, principal: tokens.Principal, code=None) -> str:
    """The ID token that goes with `token` (the code's nonce, when a code was redeemed)."""
    alg = client.id_token_signed_response_alg
    claims = tokens.id_token_claims(principal, client, token["scope"])
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
        return naming.issuer(g.tenant)


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
            "iss": naming.issuer(row.tenant_id),
            "tid": row.tenant_id,
            "aud": row.audience,
        }
        if row.user_id:
            payload.update(sub=naming.pairwise_sub(row.user_id, row.client_id), oid=row.user_id)
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
        named = request.form.get("client_id")
        basic_id, _ = extract_basic_authorization(request.headers)
        if named and basic_id and named != basic_id:  # one request, one client (RFC 6749 2.3)
            raise client_id_mismatch()
        client = super().authenticate_client(request, methods, endpoint)
        g.client_auth_method = request.auth_method  # azpacr / appidacr of the tokens this request gets
        return client

    def handle_error_response(self, request, error):
        """Entra's shape: back to the app's redirect URI with an `AADSTS` description, or its JSON body."""
        if error.redirect_uri:
            return redirect_error(error)
        status, _, headers = error()
        return self.handle_response(status, entra_answers.body(error), [*headers, *entra_answers.response_headers()])


def client_id_mismatch():
    return entra_errors.entra(
        InvalidRequestError, 9002313, "The client_id in the body names another app than the Authorization header."
    )


def redirect_error(error):
    """An authorization error sent back to a validated redirect URI, with `iss` (RFC 9207)."""
    from authlib.common.urls import add_params_to_uri
    from flask import redirect

    params = [*entra_answers.redirect_params(error), ("iss", naming.issuer(g.tenant))]
    return redirect(add_params_to_uri(error.redirect_uri, params, fragment=error.redirect_fragment))


server = Server()
ISSUER = Issuer()


def init_app(app):
    server.init_app(app)
    server.register_token_generator("default", tokens.TokenGenerator())
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True), OpenIDCodeExtension(require_nonce=False)])
    server.register_grant(RefreshTokenGrant, [IdToken()])
    server.register_grant(ClientCredentialsGrant)
    server.register_client_auth_method("private_key_jwt", certificates.authenticate)
    server.register_grant(PasswordGrant, [IdToken()])
    server.register_grant(OnBehalfOfGrant)
    server.register_grant(DeviceCodeGrant, [IdToken()])
    server.register_grant(ImplicitIdTokenGrant)
    server.register_grant(HybridGrant, [S256Only(required=True)])
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_endpoint(EndSession)
    server.register_extension(ISSUER)  # one instance: its hook is a set member, so a second app adds no second `iss`
