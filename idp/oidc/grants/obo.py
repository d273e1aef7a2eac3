"""On-behalf-of (`urn:ietf:params:oauth:grant-type:jwt-bearer`, `requested_token_use=on_behalf_of`): a web API
trades the user's access token it received for a token to a downstream API. The new token keeps the user, the
sign-in session and its hard cap (a TAP-capped sign-in stays capped), and the grant it came from, so revoking
that grant or session reaches it too."""

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError

from ...extensions import db
from ...signin.models import SigninSession
from .. import entra_errors, tokens
from ..clients import check_scope

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OnBehalfOfGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    GRANT_TYPE = GRANT_TYPE
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post"]

    def validate_token_request(self):
        data = self.request.payload.data
        if data.get("requested_token_use") != "on_behalf_of":
            raise entra_errors.entra(InvalidRequestError, 90014, "Send requested_token_use=on_behalf_of.")
        if not data.get("assertion"):
            raise entra_errors.entra(InvalidRequestError, 90014, "Send the user's access token as 'assertion'.")
        client = self.authenticate_token_endpoint_client()
        self.request.client = client
        token = tokens.active_access_token(data["assertion"])
        if token is None or token.claims.get("idtyp") != "user" or token.user_id is None:
            raise entra_errors.entra(InvalidGrantError, 50013, "The assertion is not a valid user access token.")
        if token.audience != client.id or token.tenant_id != client.tenant_id:
            raise entra_errors.entra(InvalidGrantError, 50013, "The assertion was issued for another app.")
        session = db.session.get(SigninSession, token.claims.get("sid"))
        if session is None or not tokens.session_allows_tokens(session) or not session.user.account_enabled:
            raise entra_errors.entra(InvalidGrantError, 50173, "The sign-in behind the assertion has ended.")
        check_scope(self)
        self.request.user = tokens.Principal(session.user, session, session.acr, token.grant_id)

    def create_token_response(self):
        scope = self.request.payload.scope or ""
        token = self.generate_token(
            user=self.request.user, scope=scope, include_refresh_token="offline_access" in scope.split()
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
