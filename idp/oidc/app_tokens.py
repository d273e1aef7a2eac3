"""App-only tokens for a client secret, answered ahead of the OAuth framework.

A daemon app asks the token endpoint for `grant_type=client_credentials` far more often than anything else
is asked, and Authlib's generic pipeline (request wrapping, client-authentication dispatch, grant lookup,
hooks) costs several times the token itself. This hook runs first on the OIDC blueprint and answers only a
request it is sure of: that grant, Graph's `/.default` scope or none, a client secret sent one way (Basic or
the form), a client of this tenant whose secret, authentication method and grant all check out by the
client's own rules. It answers nothing else: every other request, and every request that would fail, goes
on to Authlib exactly as before, so errors keep their codes and words. The token is made by `tokens.issue`,
the one place tokens are made.
"""

import base64
import binascii
import json
from urllib.parse import unquote

from flask import Response, g, request

from . import clients, tokens

GRANT = "client_credentials"
GRAPH_DEFAULT = f"{tokens.GRAPH_RESOURCE}/.default"
FIELDS = frozenset(("grant_type", "scope", "client_id", "client_secret"))
MAX_BODY = 2048  # a secret, an id and a scope; anything larger is not this request
HEADERS = (("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def answer() -> Response | None:
    """The token response, or None to let the framework answer (before_request: None goes on)."""
    if request.endpoint != "oidc.token" or g.get("tenant") is None or g.get("tenantless") or not _plain_form():
        return None
    form = request.form
    if form.get("grant_type") != GRANT or form.get("scope", GRAPH_DEFAULT) != GRAPH_DEFAULT:
        return None
    credentials = _secret_credentials(form)
    if credentials is None:
        return None
    client_id, secret, method = credentials
    client = clients.find_client(client_id, attach=False)
    if not (
        client is not None
        and client.tenant_id == g.tenant.id  # app-only tokens come from the app's own tenant only
        and client.check_endpoint_auth_method(method, "token")
        and client.check_client_secret(secret)
        and client.check_grant_type(GRANT)
    ):
        return None
    g.client_auth_method = method  # the tokens' azpacr / appidacr, as the framework path records it
    token = tokens.issue(client, None, form.get("scope", ""), GRANT, include_refresh_token=False)
    g.pop("issued_token", None)  # nothing to store: app-only access tokens are stateless
    return Response(json.dumps(token), 200, headers=HEADERS)


def _plain_form() -> bool:
    """A small urlencoded body of known fields, each once, each printable ASCII (what the blueprint's own
    parameter check would pass), and no query string."""
    if request.query_string or request.mimetype != "application/x-www-form-urlencoded":
        return False
    if request.mimetype_params.get("charset", "utf-8").lower() != "utf-8":
        return False
    if request.content_length is None or request.content_length > MAX_BODY:
        return False
    seen: set[str] = set()
    for name, value in request.form.items(multi=True):
        if name not in FIELDS or name in seen or not value.isascii() or not value.isprintable():
            return False
        seen.add(name)
    return True


def _secret_credentials(form) -> tuple[str, str, str] | None:
    """(client id, secret, method) when the secret comes exactly one way; None for anything else (a
    certificate assertion, both ways at once, a malformed header), which the framework answers."""
    has_header = "Authorization" in request.headers
    in_form = "client_id" in form or "client_secret" in form
    if has_header and not in_form:
        client_id, secret = _basic(request.headers["Authorization"])
        return (client_id, secret, "client_secret_basic") if client_id and secret else None
    if in_form and not has_header and form.get("client_id") and form.get("client_secret"):
        return form["client_id"], form["client_secret"], "client_secret_post"
    return None


def _basic(header: str) -> tuple[str, str] | tuple[None, None]:
    """`Basic base64(id:secret)`, strictly: RFC 6749 form-encodes both parts, which are then decoded as Authlib
    decodes them. Any other shape is the framework's to refuse (in Entra's words)."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, colon, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if colon else (None, None)
