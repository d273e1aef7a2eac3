"""The bearer guard of this server's resource endpoints (the admin API and userinfo): reads
`Authorization: Bearer` (RFC 6750) one way and answers a refusal with one challenge."""

from flask import Response, request

from . import tokens
from .tokens import AccessToken

#: RFC 6750's challenge for a missing, invalid or expired token
CHALLENGE = 'Bearer error="invalid_token"'


def presented_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is none, another scheme or an
    empty value."""
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def active_token() -> AccessToken | None:
    """The presented token when it is a live access token of this server, else None."""
    token = presented_token()
    return tokens.active_access_token(token) if token else None


def challenge(response: Response) -> Response:
    """Mark a 401 answer as a bearer-token refusal."""
    response.headers["WWW-Authenticate"] = CHALLENGE
    return response
