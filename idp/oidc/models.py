from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, TokenMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock, crypto
from ..directory.models import Tenant, new_id
from ..extensions import db


class Client(db.Model, ClientMixin):
    """An OAuth client (app registration) of one tenant."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # the client_id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # None for public clients
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32), default="client_secret_basic")
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    scopes: Mapped[list] = mapped_column(JSON, default=list)  # delegated scopes it may ask for
    app_permissions: Mapped[list] = mapped_column(JSON, default=list)  # application permissions (roles)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(8), default="RS256")
    # "Expose an API": other clients may ask for `<identifier URI>/<scope>`; the default URI is api://<id>
    identifier_uri: Mapped[str | None] = mapped_column(String(256), index=True)
    exposed_scopes: Mapped[list] = mapped_column(JSON, default=list)
    #: an authentication strength every sign-in to this app must meet (as a Conditional Access policy would)
    required_strength_id: Mapped[str | None] = mapped_column(String(36))

    tenant: Mapped[Tenant] = relationship()
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    # Authlib's ClientMixin
    def get_client_id(self):
        return self.id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        from .scopes import normalise
        allowed = set(self.scopes)
        return " ".join(s for s in normalise(scope, self.scopes) if s in allowed)

    @property
    def resource_uri(self) -> str:
        return self.identifier_uri or f"api://{self.id}"

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris  # exact match, no prefix or wildcard

    def check_client_secret(self, client_secret):
        return bool(self.secret_hash) and crypto.same(self.secret_hash, crypto.digest(client_secret))

    def check_endpoint_auth_method(self, method, endpoint):
        # Confidential clients may send their secret either way (MSAL posts it); public clients send none.
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types

    @property
    def client_metadata(self):  # read by Authlib's end-session endpoint
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}


class AuthorizationCode(db.Model, AuthorizationCodeMixin):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(36), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    acr: Mapped[str | None] = mapped_column(String(64))  # the authentication strength met for this grant
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def is_expired(self):
        return clock.now() >= self.expires_at


class Token(db.Model, TokenMixin):
    """One issued access token and, when present, its refresh token.

    Refresh tokens rotate: each use marks this row `rotated_at` and issues a new row in the same
    `family_id`. Presenting a rotated refresh token again revokes the whole family.
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    jti: Mapped[str] = mapped_column(String(64), unique=True)  # the access token's id
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(36), index=True)
    code_id: Mapped[str | None] = mapped_column(String(36), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str | None] = mapped_column(String(256))
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    # Authlib's TokenMixin
    def check_client(self, client):
        return self.client_id == client.id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return max(0, int((self.expires_at - clock.now()).total_seconds()))

    def is_expired(self):
        return clock.now() >= self.expires_at

    def is_revoked(self):
        return self.revoked_at is not None


class SigningKey(db.Model):
    """A token-signing key. The private half is sealed with the instance encryption key."""

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))  # RS256 | ES256
    private_jwk: Mapped[str] = mapped_column(Text)  # sealed
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)  # stops signing; still published
    unpublish_at: Mapped[datetime | None] = mapped_column(DateTime)  # leaves the JWKS
