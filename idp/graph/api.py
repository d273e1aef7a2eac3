import uuid
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import clock
from ..directory.models import Tenant, User
from ..extensions import csrf, db, limiter
from ..oidc import tokens

bp = Blueprint("graph", __name__)
csrf.exempt(bp)  # bearer-token API: no ambient credentials to forge
limiter.exempt(bp)

#: every operation, for the OpenAPI document: (path, method, spec)
OPERATIONS: list[tuple[str, str, dict]] = []


class GraphError(Exception):
    """An error answered in Graph's shape: {"error": {"code", "message", "innerError"}}."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str) -> GraphError:
    return GraphError(400, "badRequest", message)


def not_found(message: str = "The resource could not be found.") -> GraphError:
    return GraphError(404, "itemNotFound", message)


def forbidden(message: str = "Insufficient privileges to complete the operation.") -> GraphError:
    return GraphError(403, "accessDenied", message)


def conflict(message: str) -> GraphError:
    return GraphError(409, "conflict", message)


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
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
    found = tokens.active_access_token(value.strip())
    if found is None:
        raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
    claims, row = found
    if claims.get("aud") != tokens.GRAPH_RESOURCE:
        raise GraphError(401, "InvalidAuthenticationToken", "Invalid audience.")
    tenant = db.session.get(Tenant, row.tenant_id)
    if row.user_id is None:
        return Caller(tenant, row.client_id, permissions=set(claims.get("roles") or []))
    user = db.session.get(User, row.user_id)
    if user is None or not user.account_enabled:
        raise GraphError(401, "InvalidAuthenticationToken", "The signed-in user is not active.")
    return Caller(tenant, row.client_id, user=user, scopes=set((claims.get("scp") or "").split()))


def current_caller() -> Caller:
    return g.caller


def audit(activity: str, target_type: str | None, target_id: str | None, before=None, after=None) -> None:
    """Write the calling user's or app's change to the audit log (committed with the change)."""
    from ..audit import record_audit
    caller = current_caller()
    actor_id, actor_type = caller.actor
    record_audit(tenant_id=caller.tenant.id, actor_id=actor_id, actor_type=actor_type, activity=activity,
                 target_type=target_type, target_id=target_id, before=before, after=after)


def read_json() -> dict:
    """The request body as a JSON object, or a Graph 400."""
    if not request.data:
        return {}
    if not request.is_json:
        raise bad_request("Content-Type must be application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def operation(path: str, methods: list[str], *, summary: str, responses: dict | None = None,
              body: dict | None = None, status: int = 200):
    """Register a Graph operation: a route on the API blueprint and an entry in the OpenAPI document.
    The view receives the authenticated caller via current_caller()."""
    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            g.caller = _authenticate()
            return apply_select(view(**kwargs))

        flask_path = path.replace("{", "<").replace("}", ">")
        bp.add_url_rule(flask_path, view.__name__ + "_" + "_".join(methods).lower(), wrapper, methods=methods)
        for method in methods:
            OPERATIONS.append((path, method.lower(), {"summary": summary, "responses": responses or {},
                                                      "body": body if method in ("POST", "PATCH", "PUT") else None,
                                                      "status": status}))
        return wrapper
    return decorate


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
    return f"{tokens.base_url()}/{version}/$metadata#{fragment}"


@bp.errorhandler(GraphError)
def graph_error(error: GraphError):
    db.session.rollback()
    response = jsonify({"error": {"code": error.code, "message": error.message,
                                  "innerError": {"date": clock.iso(clock.now()), "request-id": str(uuid.uuid4())}}})
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return graph_error(GraphError(error.code, error.name.replace(" ", ""), error.description))
