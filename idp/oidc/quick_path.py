"""The requests machines repeat most, answered below Flask.

A daemon asks the token endpoint for `grant_type=client_credentials`, an app refreshes its user's tokens, and
an API introspects the tokens it is shown, far more often than anything else is asked. Flask's request
handling (request and URL objects, hooks, response object) and Authlib's generic pipeline cost several times
the answer itself, so a WSGI layer in front of the app answers these when it is sure of them: a POST of a
small form of known fields, each once, in printable ASCII, no query string, a trusted Host; a client secret
sent one way (Basic or the form) by a client of this tenant that passes the client's own checks; for an app
token, Graph's `/.default` scope or none; for a refresh, a token and a scope that every check of the refresh
grant passes, claimed exactly once as the grant claims it. It runs in an application context (the database,
the caches, `g`) but without a request context. Every other request, and every request that would fail (a
reuse included: the grant revokes the family), goes on to Flask with its body intact and nothing written, so
errors keep their codes and words. Tokens are made by `tokens.issue`, the one place tokens
are made, stored by `tokens.store_issued`, and introspected by the introspection endpoint's own methods;
`tests/test_quick_path.py` sends each request both ways.
"""

import base64
import io
import re
from urllib.parse import parse_qsl, unquote

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core.grants.util import is_openid_scope
from flask import Flask, current_app, g
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_options_header
from werkzeug.wsgi import get_host

from .. import dbpool, headers, urls
from ..extensions import db
from ..directory import service as directory
from . import clients, tokens
from .models import Client
from .grants.standard import refresh_scope, rotates_plainly
from .server import Introspection, id_token, server

GRANT, REFRESH = "client_credentials", "refresh_token"
GRAPH_DEFAULT = f"{tokens.GRAPH_RESOURCE}/.default"
CREDENTIALS = ("client_id", "client_secret")
ROUTE = re.compile(r"/([^/]{1,253})/oauth2/v2\.0/(token|introspect)")
GRANT_FIELDS = {
    GRANT: frozenset(("grant_type", "scope", *CREDENTIALS)),
    REFRESH: frozenset(("grant_type", "refresh_token", "scope", "client_info", *CREDENTIALS)),
}
FIELDS = {
    "token": GRANT_FIELDS[GRANT] | GRANT_FIELDS[REFRESH],
    "introspect": frozenset(("token", "token_type_hint", *CREDENTIALS)),
}
ENDPOINT_AUTH = {"token": "token", "introspect": "introspection"}  # what Client.check_endpoint_auth_method calls them
MAX_BODY = 4096  # a secret, an id and a scope or one token; anything larger is not one of these requests
INTROSPECTION = Introspection(server)
Answer = tuple[str, list[tuple[str, str]], bytes]


class QuickPath:
    """WSGI middleware: answers a sure request itself, hands every other one to Flask untouched."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self.enabled = True  # tests take the path out, to compare with what the framework answers
        app.extensions["quick_path"] = self

    def __call__(self, environ, start_response):
        route = ROUTE.fullmatch(environ.get("PATH_INFO", ""))
        if route is None or not self.enabled or not _plain_post(environ) or self._rate_limited():
            return self.wsgi_app(environ, start_response)
        length = int(environ["CONTENT_LENGTH"])
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # read once: Flask reads it again if the path gives up
        if len(body) != length:  # cut short: Flask reads the same bytes and refuses them (a 400)
            return self.wsgi_app(environ, start_response)
        form = _form(body, FIELDS[route[2]])
        answer = self._answer(environ, route[1], route[2], form) if form is not None else None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, response_headers, payload = answer
        start_response(status, response_headers)
        return [payload]

    def _rate_limited(self) -> bool:
        """An app-wide rate limit is Flask-Limiter's to count: then every request goes through Flask."""
        config = self.app.config
        return bool(
            config.get("RATELIMIT_ENABLED", True)
            and (config.get("RATELIMIT_APPLICATION") or config.get("RATELIMIT_DEFAULT"))
        )

    def _answer(self, environ, tenant_ref: str, endpoint: str, form: dict[str, str]) -> Answer | None:
        with self.app.app_context():
            try:
                return _sure_answer(environ, tenant_ref, endpoint, form)
            except DBAPIError as error:
                _roll_back()
                if tokens.is_deadlock(error):  # a concurrent use's victim: the grant answers it (and retries)
                    return None
                if dbpool.is_unavailable(error):  # as the framework answers it: a 503, the pool recovers
                    current_app.logger.warning("database unavailable: %s", error.__class__.__name__)
                    return _unavailable(environ)
                current_app.logger.exception("quick path gave up; the framework answers")
                return None
            except Exception:  # a defect here must not cost the request: the framework has the error pages
                _roll_back()
                current_app.logger.exception("quick path gave up; the framework answers")
                return None


def _roll_back() -> None:
    try:
        db.session.rollback()
    except DBAPIError:
        pass  # the connection is gone: the pool replaces it


def _sure_answer(environ, tenant_ref: str, endpoint: str, form: dict[str, str]) -> Answer | None:
    root = _root_url(environ)
    tenant = None if root is None else _tenant(tenant_ref)
    if tenant is None:
        return None
    g.root_url, g.tenant_id = root, tenant["id"]
    client = _authenticated_client(form, environ.get("HTTP_AUTHORIZATION"), ENDPOINT_AUTH[endpoint])
    if client is None:
        return None
    body = _token(client, form) if endpoint == "token" else _introspection(client, form)
    return None if body is None else _json(body, environ)


def _token(client: Client, form: dict[str, str]) -> dict | None:
    grant = form.get("grant_type", "")
    if not form.keys() <= GRANT_FIELDS.get(grant, frozenset()):
        return None
    return _app_token(client, form) if grant == GRANT else _refreshed_token(client, form)


def _app_token(client: Client, form: dict[str, str]) -> dict | None:
    if form.get("scope", GRAPH_DEFAULT) != GRAPH_DEFAULT:
        return None
    if not client.check_grant_type(GRANT):
        return None
    token = tokens.issue(client, None, form.get("scope", ""), GRANT, include_refresh_token=False)
    g.pop("issued_token", None)  # nothing to store: app-only access tokens are stateless
    return token


def _refreshed_token(client: Client, form: dict[str, str]) -> dict | None:
    """A plain rotation: a token of this client that every check of the refresh grant passes (its scope rule,
    `refresh_scope`, and `rotates_plainly`), claimed exactly once as the grant claims it. A claim lost to a
    concurrent use, and any refusal before the commit, rolls back and leaves the request to the grant, which
    answers it (a reuse revokes the family there). The ID token is signed before the commit: nothing is left
    to fail after it."""
    if not client.check_grant_type(REFRESH):
        return None
    row, session = tokens.find_refresh_token(form.get("refresh_token", "")) or (None, None)
    if row is None or row.client_id != client.id or not rotates_plainly(row, session):
        return None
    try:
        scope = refresh_scope(client, form.get("scope"), row.scope)
    except OAuth2Error:  # asks for what the app was not granted: the grant's to refuse
        return None
    if not tokens.claim_rotation(row):  # used concurrently: the grant's to answer (and to revoke the family)
        _roll_back()
        return None
    principal = tokens.Principal(session.user, session, grant_id=row.family_id)
    try:
        token = tokens.issue(client, principal, scope, REFRESH, client_info=form.get("client_info") == "1")
    except OAuth2Error:  # e.g. a permission the tenant has not granted: the grant refuses it in its words
        _roll_back()
        return None
    if token.get("scope") and is_openid_scope(token["scope"]):  # as Authlib's OpenID extension decides
        token["id_token"] = id_token(token, client, principal)
    tokens.store_issued(token, client, principal, previous=row)  # commits the claim and the successor
    return token


def _introspection(client: Client, form: dict[str, str]) -> dict | None:
    hint = form.get("token_type_hint")
    if not form.get("token") or (hint is not None and hint not in INTROSPECTION.SUPPORTED_TOKEN_TYPES):
        return None
    found = INTROSPECTION.query_token(form["token"], hint)
    allowed = found if found and INTROSPECTION.check_permission(found, client, None) else None
    return INTROSPECTION.create_introspection_payload(allowed)


def _authenticated_client(form: dict[str, str], authorization: str | None, endpoint: str) -> Client | None:
    """This tenant's client whose secret came one way and checks out, as the framework would authenticate it
    (app-only and introspection requests come from the app's own tenant only); None otherwise."""
    credentials = _secret_credentials(form, authorization)
    if credentials is None:
        return None
    client_id, secret, method = credentials
    client = clients.find_client(client_id, attach=False)
    if not (
        client is not None
        and client.tenant_id == g.tenant_id
        and client.check_endpoint_auth_method(method, endpoint)
        and client.check_client_secret(secret)
    ):
        return None
    g.client_auth_method = method  # the tokens' azpacr / appidacr, as the framework path records it
    return client


def _tenant(ref: str) -> dict | None:
    """The tenant a path names, as Flask's routing resolves it; None for /common and the like (the
    framework's: there the client names the tenant) and for an unknown one (the framework's 404)."""
    if ref.lower() in directory.TENANTLESS | {"consumers"}:
        return None
    return directory.tenant_values(ref)


def _root_url(environ) -> str | None:
    """The base URL tokens name, from the Host that Flask would check against TRUSTED_HOSTS (None: refused)."""
    try:
        host = get_host(environ, current_app.config["TRUSTED_HOSTS"])
    except SecurityError:
        return None
    if not host:
        return None
    return urls.root_url(environ.get("wsgi.url_scheme", "http"), host, environ.get("SCRIPT_NAME", ""))


def _unavailable(environ) -> Answer:
    """The framework's answer when the database is unreachable: a clear 503; the pool recovers by itself."""
    body = {"error": "temporarily_unavailable", "error_description": dbpool.UNAVAILABLE}
    status, response_headers, payload = _json(body, environ, "503 SERVICE UNAVAILABLE")
    return status, [*response_headers, ("Retry-After", dbpool.RETRY_AFTER_SECONDS)], payload


def _json(body: dict, environ, status: str = "200 OK") -> Answer:
    """The bytes and headers the framework gives (Authlib's JSON, the app's security headers)."""
    payload = current_app.json.dumps(body).encode()  # flask.json, as Authlib answers: sorted members
    response_headers = [
        *default_json_headers,
        ("Content-Length", str(len(payload))),
        *headers.for_response(environ.get("wsgi.url_scheme") == "https"),
    ]
    if current_app.config.get("IDP_COUNT_SQL"):
        response_headers.append(("X-SQL-Statements", str(g.get("sql_statements", 0))))
    return status, response_headers, payload


def _plain_post(environ) -> bool:
    """A POST of a small urlencoded UTF-8 body of known length and no query string."""
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
        return False
    length = environ.get("CONTENT_LENGTH") or ""
    if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY:  # "²" is a digit int() refuses
        return False
    mimetype, params = parse_options_header(environ.get("CONTENT_TYPE", ""))
    return mimetype == "application/x-www-form-urlencoded" and params.get("charset", "utf-8").lower() == "utf-8"


def _form(body: bytes, fields: frozenset[str]) -> dict[str, str] | None:
    """Known fields, each once, each printable ASCII (what the blueprint's own parameter check would pass)."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=len(fields))
    except ValueError:  # not ASCII, bad percent-encoding (UnicodeError), too many fields
        return None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name not in fields or name in form or not value.isascii() or not value.isprintable():
            return None
        form[name] = value
    return form


def _secret_credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str, str] | None:
    """(client id, secret, method) when the secret comes exactly one way; None for anything else (a
    certificate assertion, both ways at once, a malformed header), which the framework answers."""
    in_form = any(name in form for name in CREDENTIALS)
    if authorization is not None and not in_form:
        client_id, secret = _basic(authorization)
        return (client_id, secret, "client_secret_basic") if client_id and secret else None
    if in_form and authorization is None and form.get("client_id") and form.get("client_secret"):
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
