"""`response_type=id_token` and `code id_token`: Entra's "ID tokens (used for implicit and hybrid flows)"
switch of an app registration, off by default. The ID token is signed as the code flow's is."""

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidClientError

from authlib.oidc.core.grants import OpenIDHybridGrant, OpenIDImplicitGrant
from authlib.oidc.core.grants.util import create_half_hash

from ..clients import check_scope
from .standard import AuthorizationCodeGrant
from .. import tokens


class _IdTokenInResponse:
    def validate_requested_scope(self):
        check_scope(self)

    def exists_nonce(self, nonce, request):
        return False  # nonce is required here and checked by the app; the response is one-time by its exp

    def validate_consent_request(self):
        self.redirect_uri = super().validate_consent_request()  # Authlib's OIDC grants leave it unset
        return self.redirect_uri

    def process_implicit_token(self, token, code=None):
        principal: tokens.Principal = self.request.user
        client = self.request.client
        alg = client.id_token_signed_response_alg
        claims = tokens.id_token_claims(principal, client, token["scope"])
        claims["nonce"] = self.request.payload.data.get("nonce")
        if code is not None:
            claims["c_hash"] = create_half_hash(code, alg).decode()
        return {"id_token": tokens.sign(claims, alg)}

    def create_authorization_response(self, redirect_uri, grant_user):
        """In the fragment; response_modes.deliver re-shapes it into the mode the app asked for."""
        if not grant_user:
            raise AccessDeniedError(redirect_uri=redirect_uri, redirect_fragment=True)
        params = self.create_granted_params(grant_user)
        if self.request.payload.state:
            params.append(("state", self.request.payload.state))
        return 302, "", [("Location", add_params_to_uri(redirect_uri, params, fragment=True))]


class ImplicitIdTokenGrant(_IdTokenInResponse, OpenIDImplicitGrant):
    RESPONSE_TYPES = {"id_token"}

    def authenticate_token_endpoint_client(self):
        """The front channel names the app; any app (confidential ones too, as in Entra) may get an ID token."""
        client = self.server.query_client(self.request.payload.client_id)
        if client is None:
            raise InvalidClientError(description="The client does not exist on this server.")
        return client


class HybridGrant(_IdTokenInResponse, OpenIDHybridGrant):
    RESPONSE_TYPES = {"code id_token"}

    def save_authorization_code(self, code, request):
        AuthorizationCodeGrant.save_authorization_code(self, code, request)

    def create_granted_params(self, grant_user):
        self.request.user = grant_user
        code = self.generate_authorization_code()
        self.save_authorization_code(code, self.request)
        scope = self.request.scope
        return [("code", code), *self.process_implicit_token({"scope": scope}, code).items()]
