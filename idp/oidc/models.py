from datetime import datetime
from typing import TYPE_CHECKING

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, TokenMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock, crypto
from ..directory.models import Tenant, new_id
from ..extensions import db

if TYPE_CHECKING:
    from ..signin.models import SigninSession


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
    #: Entra's "ID tokens (used for implicit and hybrid flows)" switch: response types with id_token
    id_tokens_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: grant_type=password (ROPC), off unless the app turns it on, as Entra's "Allow public client flows"
    ropc_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: certificate credentials: [{"x5t", "x5t#S256", "pem", "not_after"}] (public parts only)
    certificates: Mapped[list] = mapped_column(JSON, default=list)
    secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Graph's application object: its own object id (the client id is its appId) and properties
    object_id: Mapped[str] = mapped_column(String(36), unique=True, index=True, default=new_id)
    sign_in_audience: Mapped[str] = mapped_column(String(64), default="AzureADMyOrg", server_default="AzureADMyOrg")
    spa_redirect_uris: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    public_redirect_uris: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    is_fallback_public_client: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: api.oauth2PermissionScopes and appRoles as Graph shows them (id, value, displayName, ...)
    scope_definitions: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    app_roles: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    required_resource_access: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    key_credentials: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    #: passwordCredentials: keyId, displayName, hint, start/end and the secret's hash (never the secret)
    password_credentials: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

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
        # exact match, no prefix or wildcard, over the web, SPA and public-client platforms
        return redirect_uri in (self.redirect_uris or []) + (self.spa_redirect_uris or []) + (
            self.public_redirect_uris or []
        )

    def check_client_secret(self, client_secret):
        digest = crypto.digest(client_secret)
        now = clock.iso(clock.now())
        valid = [
            c["hash"]
            for c in self.password_credentials or []
            if c.get("hash") and c.get("endDateTime", "9999") > now >= c.get("startDateTime", "")
        ]
        if self.secret_hash:
            valid.append(self.secret_hash)
        if any([crypto.same(known, digest) for known in valid]):  # every one compared: no early exit
            return True
        if any(
            [
                crypto.same(c["hash"], digest)
                for c in self.password_credentials or []
                if c.get("hash") and c.get("endDateTime", "9999") <= now
            ]
        ):
            from .entra_errors import note

            note(7000222)  # the right secret past its end date: Entra says so, not "invalid secret"
        return False

    def check_endpoint_auth_method(self, method, endpoint):
        # Confidential clients may send their secret either way (MSAL posts it); public clients send none.
        if self.is_public:
            return method == "none"
        if method == "private_key_jwt":
            return bool(self.certificates)
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        if response_type in ("id_token", "code id_token") and not self.id_tokens_enabled:
            return False  # Entra's implicit and hybrid flows need the app registration's switch
        if response_type == "id_token":
            return True
        return response_type in ("code", "code id_token") and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type):
        if grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return not self.is_public  # on-behalf-of: any confidential app (a web API) may, as in Entra
        if grant_type == "urn:ietf:params:oauth:grant-type:device_code":
            return self.is_public or self.ropc_enabled  # public clients; others with "public client flows" on
        if grant_type == "password":
            return self.ropc_enabled  # Entra's "allow public client flows": off unless turned on
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
    #: the SSO session the code came from: the redemption reads it with the code, in one joined query
    session: Mapped["SigninSession | None"] = relationship(
        "SigninSession", primaryjoin="foreign(AuthorizationCode.session_id) == SigninSession.id", viewonly=True
    )

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


class TokenRevocation(db.Model):
    """A "not before" time for the stateless access tokens of one session, grant, token, client or user
    (`subject` is "<kind>:<id>"): a token it covers that was issued at or before `not_before` is void. Rows are
    few (sign-outs, deleted passes, refresh reuse, ...) and die once no covered token can still be alive."""

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    not_before: Mapped[datetime] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # what other processes poll by
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
