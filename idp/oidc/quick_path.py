"""The two requests machines repeat most, answered ahead of the OAuth framework.

A daemon asks the token endpoint for `grant_type=client_credentials`, and an API introspects the tokens it is
shown, far more often than anything else is asked; Authlib's generic pipeline (request wrapping, client
authentication dispatch, grant and endpoint lookup, hooks) and the blueprint's checks cost several times the
answer itself. This hook runs first on the OIDC blueprint and answers only a request it is sure of: a small
form of known fields, each once, in printable ASCII; a client secret sent one way (Basic or the form) by a
client of this tenant that passes the client's own checks; for a token, Graph's `/.default` scope or none.
Every other request, and every request that would fail, goes on to Authlib exactly as before, so errors keep
their codes and words. Tokens are made by `tokens.issue`, the one place tokens are made, and introspected by
the introspection endpoint's own methods.
"""

import base64
from urllib.parse import unquote

from authlib.consts import default_json_headers
from flask import Response, g, request

from . import clients, tokens
from .models import Client
from .server import Introspection, server

GRANT = "client_credentials"
GRAPH_DEFAULT = f"{tokens.GRAPH_RESOURCE}/.default"
CREDENTIALS = ("client_id", "client_secret")
FIELDS = {
    "oidc.token": frozenset(("grant_type", "scope", *CREDENTIALS)),
    "oidc.introspect": frozenset(("token", "token_type_hint", *CREDENTIALS)),
}
MAX_BODY = 4096  # a secret, an id and a scope or one token; anything larger is not one of these requests
INTROSPECTION = Introspection(server)


def answer() -> Response | None:
    """The answer, or None to let the framework answer (a before_request hook's None goes on)."""
    fields = FIELDS.get(request.endpoint or "")
    if (
        fields is None
        or request.method != "POST"
        or g.get("tenant") is None
        or g.get("tenantless")
        or not _plain_form(fields)
    ):
        return None
    if request.endpoint == "oidc.token":
        return _app_token()
    return _introspection()


def _app_token() -> Response | None:
    form = request.form
    if form.get("grant_type") != GRANT or form.get("scope", GRAPH_DEFAULT) != GRAPH_DEFAULT:
        return None
    client = _authenticated_client("token")
    if client is None or not client.check_grant_type(GRANT):
        return None
    token = tokens.issue(client, None, form.get("scope", ""), GRANT, include_refresh_token=False)
    g.pop("issued_token", None)  # nothing to store: app-only access tokens are stateless
    return _json(token)


def _introspection() -> Response | None:
    form = request.form
    hint = form.get("token_type_hint")
    if not form.get("token") or (hint is not None and hint not in INTROSPECTION.SUPPORTED_TOKEN_TYPES):
        return None
    client = _authenticated_client("introspection")
    if client is None:
        return None
    found = INTROSPECTION.query_token(form["token"], hint)
    allowed = found if found and INTROSPECTION.check_permission(found, client, request) else None
    return _json(INTROSPECTION.create_introspection_payload(allowed))


def _authenticated_client(endpoint: str) -> Client | None:
    """This tenant's client whose secret came one way and checks out, as the framework would authenticate it
    (app-only and introspection requests come from the app's own tenant only); None otherwise."""
    credentials = _secret_credentials(request.form)
    if credentials is None:
        return None
    client_id, secret, method = credentials
    client = clients.find_client(client_id, attach=False)
    if not (
        client is not None
        and client.tenant_id == g.tenant.id
        and client.check_endpoint_auth_method(method, endpoint)
        and client.check_client_secret(secret)
    ):
        return None
    g.client_auth_method = method  # the tokens' azpacr / appidacr, as the framework path records it
    return client


def _json(body: dict) -> Response:
    return server.handle_response(200, body, default_json_headers)  # the framework's own bytes and headers


def _plain_form(fields: frozenset[str]) -> bool:
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
        if name not in fields or name in seen or not value.isascii() or not value.isprintable():
            return False
        seen.add(name)
    return True


def _secret_credentials(form) -> tuple[str, str, str] | None:
    """(client id, secret, method) when the secret comes exactly one way; None for anything else (a
    certificate assertion, both ways at once, a malformed header), which the framework answers."""
    has_header = "Authorization" in request.headers
    in_form = any(name in form for name in CREDENTIALS)
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
    except ValueError:  # not base64 (binascii.Error), not ASCII text or bytes (UnicodeError): both ValueErrors
        return None, None
    client_id, colon, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if colon else (None, None)
