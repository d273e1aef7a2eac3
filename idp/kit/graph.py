"""The Graph operation kit: what a resource needs to be a Graph operation, whichever package it lives in.

`operation` declares one (its route, its row of the permission table, its body schema, its OpenAPI entry); the
bearer token is authenticated and the permissions checked before the view runs. Refusals are `GraphError`s in
Graph's words, answered by the Graph shell's one handler (`error_response`). The routes wait in `routes` until
the shell's blueprint (idp/graph/blueprint.py) takes them.
"""

import re
import uuid
from dataclasses import dataclass, field
from functools import wraps

import jsonschema_rs
from flask import g, jsonify, request

from .. import clock
from ..audit import record_admin_change
from ..directory import service as directory
from ..directory.models import Tenant, User
from ..errors import ServiceError
from ..extensions import db
from ..inputs import load_json
from ..oidc import bearer, naming, tokens
from .graph_permissions import Permissions, for_operation
from .routes import Routes

#: every operation's routes (and its /me alias), for the Graph shell's blueprint (idp/graph/blueprint.py)
routes = Routes("graph")

#: every operation, for the OpenAPI document: (path, method, spec)
OPERATIONS: list[tuple[str, str, dict]] = []


#: Graph's error codes by status (directory-style where Graph uses them for these resources)
BAD_REQUEST, UNAUTHENTICATED, DENIED = "BadRequest", "InvalidAuthenticationToken", "Authorization_RequestDenied"
NOT_FOUND, CONFLICT = "Request_ResourceNotFound", "Conflict"
CODES = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: DENIED,
    404: NOT_FOUND,
    405: "MethodNotAllowed",
    409: CONFLICT,
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    500: "generalException",
    503: "serviceNotAvailable",
}
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class GraphError(ServiceError):
    """A refusal of the shell itself (token, permission, OData), spelled in Graph's words."""

    def __init__(self, status: int, code: str | None, message: str, details: list | None = None):
        super().__init__(message, status, code=code or CODES.get(status, BAD_REQUEST))
        self.details = details

    def graph_details(self) -> list[dict] | None:
        return self.details


def bad_request(message: str) -> GraphError:
    return GraphError(400, BAD_REQUEST, message)


def not_found(message: str = "The resource could not be found.") -> GraphError:
    return GraphError(404, NOT_FOUND, message)


def forbidden(message: str = "Insufficient privileges to complete the operation.") -> GraphError:
    return GraphError(403, DENIED, message)


def conflict(message: str) -> GraphError:
    return GraphError(409, CONFLICT, message)


def request_ids() -> tuple[str, str]:
    """(request-id, client-request-id) of this request: ours, and the caller's echoed when well-formed."""
    if "graph_request_id" not in g:
        g.graph_request_id = str(uuid.uuid4())
    client = request.headers.get("client-request-id", "")
    return g.graph_request_id, client if _CLIENT_REQUEST_ID.match(client) else g.graph_request_id


def error_response(status: int, code: str | None, message: str, details: list | None = None):
    """Any Graph error, from a handler, the router (404/405), the size limit (413) or the server (5xx)."""
    request_id, client_request_id = request_ids()
    body = {
        "code": code or CODES.get(status, BAD_REQUEST),
        "message": message,
        "innerError": {
            "date": clock.iso(clock.now()),
            "request-id": request_id,
            "client-request-id": client_request_id,
        },
    }
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    response.headers["request-id"], response.headers["client-request-id"] = request_id, client_request_id
    return bearer.challenge(response) if status == 401 else response


def is_graph_path() -> bool:
    return request.path.startswith(("/v1.0/", "/beta/")) or request.path in ("/v1.0", "/beta")


@dataclass
class Caller:
    """Who is calling: a signed-in user (delegated) or an app (app-only), in one tenant."""

    tenant: Tenant
    client_id: str
    user: User | None = None
    scopes: set[str] = field(default_factory=set)  # delegated permissions (scp)
    permissions: set[str] = field(default_factory=set)  # application permissions (roles)

    @property
    def is_app(self) -> bool:
        return self.user is None

    @property
    def roles(self) -> set[str]:
        return self.user.roles if self.user else set()

    @property
    def actor(self) -> tuple[str, str]:
        return (self.client_id, "app") if self.is_app else (self.user.id, "user")

    def has_permission(self, *names: str) -> bool:
        granted = self.permissions if self.is_app else self.scopes
        return bool(granted & set(names))


def _authenticate() -> Caller:
    token = bearer.presented_token()
    if token is None:
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
    found = tokens.active_access_token(token)
    if found is None:
        raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
    claims = found.claims
    if found.audience != tokens.GRAPH_RESOURCE:
        raise GraphError(401, "InvalidAuthenticationToken", "Invalid audience.")
    tenant = db.session.get(Tenant, found.tenant_id)
    if tenant is None:
        raise GraphError(401, "InvalidAuthenticationToken", "The organization of this token does not exist.")
    if found.user_id is None:
        return Caller(tenant, found.client_id, permissions=set(claims.get("roles") or []))
    user = db.session.get(User, found.user_id)
    if user is None or not user.account_enabled:
        raise GraphError(401, "InvalidAuthenticationToken", "The signed-in user is not active.")
    return Caller(tenant, found.client_id, user=user, scopes=set((claims.get("scp") or "").split()))


def target_user(ref: str) -> User:
    """The user `{id}` of the caller's tenant, by object id or UPN; 404 otherwise."""
    user = directory.find_user(current_caller().tenant, ref)
    if user is None:
        raise not_found(
            f"Resource '{ref[:100]}' does not exist or one of its queried reference-property objects are not present."
        )
    return user


def current_caller() -> Caller:
    return g.caller


#: the admin API's name for the one audit helper (the caller is the actor)
audit = record_admin_change


def read_json() -> dict:
    """The request body as a JSON object (already checked against the operation's schema), or a Graph 400."""
    if "graph_body" in g:
        return g.graph_body
    return _parse_body()


def _parse_body() -> dict:
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    if not request.is_json:
        raise bad_request("Content-Type must be application/json.")
    body = load_json(data)
    if not isinstance(body, dict):
        raise bad_request(f"The request body must be a JSON object, not {_json_type(body)}.")
    return body


def _json_type(value) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }[type(value)]


def _where(path) -> str:
    parts = [str(p) for p in path]
    return f"property '{'.'.join(parts)}'" if parts else "the request body"


def validate_body(validator) -> dict:
    """Parse the body with the bounded loader and check it against the operation's schema."""
    body = _parse_body()
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None and error.instance is None and error.instance_path:
        kinds = " or ".join(getattr(error.kind, "types", None) or ["a value"])
        raise bad_request(f"{_where(error.instance_path).capitalize()} is required to be {kinds}, not null.")
    if error is not None:
        raise bad_request(f"Invalid value for {_where(error.instance_path)}: {error.message[:300]}.")
    return body


def _names_caller(caller: "Caller", user_ref: str | None) -> bool:
    if caller.user is None or not user_ref:
        return False
    ref = user_ref.lower()
    return ref in ("me", caller.user.id.lower(), caller.user.upn.lower())


def check_permissions(permissions: Permissions, caller: "Caller", user_ref: str | None = None) -> None:
    if permissions.any_token:
        return
    if caller.is_app:
        if caller.permissions & set(permissions.application) or permissions.application_self:
            return
        raise forbidden(
            "Insufficient privileges to complete the operation: the application needs one of the "
            f"permissions {', '.join(permissions.application) or '(none: delegated only)'}."
        )
    if caller.scopes & set(permissions.delegated):
        return
    if caller.scopes & set(permissions.delegated_self) and _names_caller(caller, user_ref):
        return
    wanted = permissions.delegated + tuple(p for p in permissions.delegated_self if p not in permissions.delegated)
    raise forbidden(
        "Insufficient privileges to complete the operation: the token's scp needs one of "
        f"{', '.join(wanted) or '(none: application only)'}."
    )


def operation(
    path: str,
    methods: list[str],
    *,
    summary: str,
    responses: dict | None = None,
    body: dict | None = None,
    status: int = 200,
):
    """Register a Graph operation: a route on the API blueprint and an entry in the OpenAPI document.
    Before the view runs: the token is authenticated, the operation's permissions (its row of the table in
    permissions.py) are checked, and a JSON body is parsed by the bounded loader and validated against
    `body` (the schema the document shows). The view receives the authenticated caller via current_caller().

    Longer than our rule of thumb on purpose: its closures are the request pipeline of every operation, and they
    read best in one place, in the order they run."""
    granted = {m: for_operation(path, m) for m in methods}
    writes = [m for m in methods if m in ("POST", "PATCH", "PUT")]
    checked = harden(body) if body is not None and body.get("type") == "object" else body
    validator = (
        jsonschema_rs.validator_for(checked) if checked is not None and checked.get("type") == "object" else None
    )

    def admit(user_ref: str | None) -> None:
        check_permissions(granted[request.method if request.method in granted else "GET"], g.caller, user_ref)
        if validator is not None and request.method in writes:
            g.graph_body = validate_body(validator)

    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            g.caller = _authenticate()
            admit(kwargs.get("user_ref"))
            return apply_select(view(**kwargs))

        _register(path, methods, view.__name__, wrapper, summary, responses, checked, status, granted)
        if path.startswith(USER_PATH):  # Graph's /me/...: the same operation on the signed-in user

            @wraps(view)
            def on_me(**kwargs):
                g.caller = _authenticate()
                if g.caller.is_app:
                    raise GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
                admit(g.caller.user.id)
                return apply_select(view(user_ref=g.caller.user.id, **kwargs))

            _register(
                "/me" + path[len(USER_PATH) :],
                methods,
                "me_" + view.__name__,
                on_me,
                summary,
                responses,
                checked,
                status,
                granted,
            )
        return wrapper

    return decorate


USER_PATH = "/users/{user_ref}"


def _register(path, methods, name, view, summary, responses, body, status, granted) -> None:
    flask_path = path.replace("{", "<").replace("}", ">")
    routes.route(flask_path, endpoint=name + "_" + "_".join(methods).lower(), methods=methods)(view)
    for method in methods:
        OPERATIONS.append(
            (
                path,
                method.lower(),
                {
                    "summary": summary,
                    "responses": responses or {},
                    "body": body if method in ("POST", "PATCH", "PUT") else None,
                    "status": status,
                    "permissions": granted[method],
                },
            )
        )


MAX_STRING, MAX_ITEMS, MAX_INTEGER = 4096, 2000, 2**31 - 1


def harden(schema: dict) -> dict:
    """Bound every string, array and integer of a body schema that has no bound of its own, so nothing
    unbounded reaches a handler or a column (the OpenAPI document shows the bounded schema)."""
    schema = dict(schema)
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if "string" in kinds:
        schema.setdefault("maxLength", MAX_STRING)
    if "integer" in kinds or "number" in kinds:
        schema.setdefault("minimum", -MAX_INTEGER)
        schema.setdefault("maximum", MAX_INTEGER)
    if "array" in kinds:
        schema.setdefault("maxItems", MAX_ITEMS)
        if isinstance(schema.get("items"), dict):
            schema["items"] = harden(schema["items"])
    if "object" in kinds and isinstance(schema.get("properties"), dict):
        schema["properties"] = {name: harden(sub) for name, sub in schema["properties"].items()}
    return schema


def apply_select(result):
    """OData `$select`: keep the named properties (and `id`, `@odata.*`) of an entity or a collection."""
    select = request.args.get("$select")
    body = result[0] if isinstance(result, tuple) else result
    if not select or not isinstance(body, dict):
        return result
    wanted = {name.strip() for name in select.split(",") if name.strip()} | {"id"}

    def pick(item: dict) -> dict:
        return {k: v for k, v in item.items() if k in wanted or k.startswith("@odata.")}

    if isinstance(body.get("value"), list):
        body = {**body, "value": [pick(item) for item in body["value"]]}
    else:
        body = pick(body)
    return (body, *result[1:]) if isinstance(result, tuple) else body


def odata_context(fragment: str) -> str:
    version = "beta" if request.path.startswith("/beta/") else "v1.0"
    return f"{naming.base_url()}/{version}/$metadata#{fragment}"
