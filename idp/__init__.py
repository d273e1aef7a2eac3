"""An Entra-shaped OpenID Connect identity provider."""

import os
from pathlib import Path

from flask import Flask, current_app, g, has_app_context, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config
from .extensions import csrf, db, limiter, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("IDP_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
    )
    config.load(app, overrides)
    app.session_interface = _SessionInterface()
    from .oidc.metadata import MetadataDispatcher
    from .oidc.quick_path import QuickPath

    app.wsgi_app = MetadataDispatcher(app, app.wsgi_app)  # discovery and JWKS as kept bytes, before Flask
    app.wsgi_app = QuickPath(app, app.wsgi_app)  # app-only tokens and introspection, below Flask
    if app.config["IDP_TRUSTED_PROXIES"]:
        hops = app.config["IDP_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    _request_limits(app)  # before CSRF: its check reads the form, so an upload's own cap must apply first
    csrf.init_app(app)
    limiter.init_app(app)
    from . import i18n

    i18n.init_app(app)
    from . import ui

    ui.init_app(app)
    _import_models()
    from . import wiring

    wiring.install(app)

    _tenant_routing(app)
    _security_headers(app)
    _error_pages(app)
    _sqlite_pragmas(app)
    _pool_liveness(app)
    _forgiving_session_teardown(app)
    if app.config.get("IDP_COUNT_SQL"):
        _statement_counter(app)

    from .cli import idp_cli

    app.cli.add_command(idp_cli)
    return app


def _request_limits(app: Flask) -> None:
    """Bodies are capped by MAX_CONTENT_LENGTH (413); the few upload endpoints have their own, larger caps."""
    from .inputs import UPLOAD_LIMITS

    @app.before_request
    def upload_cap():
        limit = UPLOAD_LIMITS.get(request.endpoint or "")
        if limit:
            request.max_content_length = app.config.get(limit[0], limit[1])


def _count_statement(*args) -> None:
    if has_app_context():  # a request's, also one answered below Flask (oidc/quick_path.py)
        g.sql_statements = g.get("sql_statements", 0) + 1


def _statement_counter(app) -> None:
    """Benchmarks: each response says how many SQL statements it ran (X-SQL-Statements)."""
    from sqlalchemy import event

    from . import dbpool

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*args, **kwargs):
        _count_statement()

    if _count_statement not in dbpool.statement_observers:  # the reads run by the driver itself
        dbpool.statement_observers.append(_count_statement)

    @app.after_request
    def _report(response):
        response.headers["X-SQL-Statements"] = str(g.get("sql_statements", 0))
        return response


class _SessionInterface(SecureCookieSessionInterface):
    """The flow cookie is Secure whenever the request came over HTTPS (and always when configured), and then
    a `__Host-` cookie."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))

    def get_cookie_name(self, app):
        name = app.config["SESSION_COOKIE_NAME"]
        return f"__Host-{name}" if has_request_context() and request.is_secure else name

    def get_signing_serializer(self, app):
        """Built once per set of keys rather than twice a request (open and save): it holds no request state."""
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self.__dict__.get("_serializer")
        if kept is None or kept[0] != keys:
            kept = self._serializer = (keys, super().get_signing_serializer(app))
        return kept[1]

    def open_session(self, app, request):
        """Without a cookie, an empty session as Flask would give, but without building a signing serializer
        (API calls such as the token endpoint's never carry one)."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _import_models() -> None:
    """Every table in SQLAlchemy's metadata (migrations and create_all need them all); no registration."""
    from . import mailer as _mailer  # noqa: F401
    from .audit import models as _audit  # noqa: F401
    from .branding import models as _branding  # noqa: F401
    from .methods.email_otp import models as _email_otp  # noqa: F401
    from .methods.oath import models as _oath  # noqa: F401
    from .methods.phone import models as _phone  # noqa: F401
    from .methods.push import models as _push, simulator as _push_simulator  # noqa: F401
    from .telephony import simulator as _telephony  # noqa: F401
    from .methods.passkey import models as _passkey  # noqa: F401
    from .mfa import models as _mfa  # noqa: F401
    from .methods.tap import models as _tap  # noqa: F401
    from .policy import models as _policy, strengths as _strengths  # noqa: F401
    from .directory import models as _directory  # noqa: F401
    from .oidc import models as _oidc  # noqa: F401
    from .oidc.grants import models as _oidc_grants  # noqa: F401
    from .signin import models as _signin  # noqa: F401


def _tenant_routing(app: Flask) -> None:
    """`/<tenant>/...` routes resolve the tenant (id or verified domain) once, into g.tenant."""
    from flask import abort

    from .directory import service as directory

    @app.url_value_preprocessor
    def resolve_tenant(endpoint, values):
        if values and "tenant" in values:
            ref = values.pop("tenant")
            if ref.lower() in directory.TENANTLESS | {"consumers"}:  # /common, /organizations: the app's tenant
                g.tenantless = ref.lower()
                # only the protocol endpoints exist here (they answer in Entra's words); a page of a tenant
                # (sign-in steps, console, branding) is never served under /common for a client's tenant
                if not (endpoint or "").startswith("oidc."):
                    abort(
                        400,
                        description="The /common and /organizations endpoints serve the sign-in protocol only. "
                        "To sign in, start at /common/login/ or use your organization's link.",
                    )
                g.tenant = _tenant_of_calling_client() if g.tenantless != "consumers" else None
                g.tenant_ref = g.tenant.id if g.tenant else g.tenantless
                return
            g.tenant_ref, g.tenant = ref, directory.find_tenant(ref)
            if g.tenant is None:
                abort(404, description=f"There is no tenant '{ref[:80]}' on this server.")

    @app.url_defaults
    def keep_tenant(endpoint, values):
        if "tenant" not in values and g.get("tenant_ref") and app.url_map.is_endpoint_expecting(endpoint, "tenant"):
            values["tenant"] = g.tenant_ref


def _tenant_of_calling_client():
    from .oidc.clients import find_client

    client = find_client(
        request.values.get("client_id") or (request.authorization.username if request.authorization else None)
    )
    return client.tenant if client else None


def _security_headers(app: Flask) -> None:
    from .headers import for_response

    @app.after_request
    def headers(response):
        for name, value in for_response(request.is_secure, page=response.mimetype == "text/html"):
            response.headers.setdefault(name, value)
        if request.blueprint in (
            "oidc",
            "device",
            "signin",
            "console",
            "securityinfo",
            "guests",
        ) or request.path.startswith("/_demo"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def _error_pages(app: Flask) -> None:
    """Every failure answered in the caller's dialect: Graph's {"error": ...} on the admin API, OAuth's on the
    token endpoint, a page with a way forward everywhere else."""
    _http_errors(app)
    _refusals(app)
    _database_errors(app)


def _http_errors(app: Flask) -> None:
    from .kit.graph import error_response as graph_error, is_graph_path

    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        """A Host header outside TRUSTED_HOSTS (config.trusted_hosts): no page of ours is built for it."""
        return app.response_class(
            _("This server does not answer to that host name.") + "\n", 400, mimetype="text/plain"
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if is_graph_path():  # unknown routes, 405s and 413s of the admin API answer in Graph's shape too
            message = error.description
            if error.code == 404:
                segment = request.path.split("/", 2)[-1] if request.path.count("/") > 1 else ""
                message = f"Resource not found for the segment '{segment[:200]}'."
            elif error.code == 405:
                message = f"The HTTP method '{request.method}' is not allowed on this resource."
            return graph_error(error.code, None, message)
        if request.accept_mimetypes.best == "application/json":
            return {"error": {"code": error.name.replace(" ", ""), "message": error.description}}, error.code
        return render_template("error.html", title=error.name, message=error.description, code=error.code), error.code


def _refusals(app: Flask) -> None:
    from .errors import ServiceError
    from .kit.graph import error_response as graph_error, is_graph_path
    from .ui import refusal_page

    @app.errorhandler(ServiceError)
    def refused(error: ServiceError):
        """A refusal no view caught: Graph's shape on the admin API (its blueprint answers first), else a page."""
        if is_graph_path():
            db.session.rollback()
            return graph_error(error.status, error.code, error.message, error.graph_details())
        return refusal_page(error)

    app.register_error_handler(Exception, _unexpected)


def _unexpected(error: Exception):
    """A bug or an unplanned failure: logged with its trace, the change rolled back, a 500 without details."""
    from .kit.graph import error_response as graph_error, is_graph_path

    current_app.logger.exception("unhandled error")
    db.session.rollback()
    if is_graph_path():
        return graph_error(500, None, "The server could not complete this request. Try again.")
    return render_template(
        "error.html",
        title=_("Something went wrong"),
        message=_("The server could not complete this request. Try again."),
        code=500,
    ), 500


def _database_errors(app: Flask) -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    from .dbpool import RETRY_AFTER_SECONDS, UNAVAILABLE, is_unavailable
    from .kit.graph import error_response as graph_error, is_graph_path

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error):
        """The database is unreachable (restart, fail-over): a clear 503; the pool recovers by itself."""
        if not is_unavailable(error):
            return _unexpected(error)
        app.logger.warning("database unavailable: %s", error.__class__.__name__)
        try:
            db.session.rollback()
        except DBAPIError:
            pass
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
        if is_graph_path():
            response = graph_error(503, None, UNAVAILABLE)
            response.headers.update(headers)
            return response
        if request.blueprint == "oidc" and request.method == "POST":
            return {"error": "temporarily_unavailable", "error_description": UNAVAILABLE}, 503, headers
        page_message = _("The service is temporarily unavailable. Try again in a moment.")
        return (
            render_template("error.html", title=_("Temporarily unavailable"), message=page_message, code=503),
            503,
            headers,
        )


def _pool_liveness(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from .dbpool import ping_idle_connections

    with app.app_context():
        ping_idle_connections(db.engine, app.config["IDP_DB_PING_IDLE_SECONDS"])


def _forgiving_session_teardown(app: Flask) -> None:
    """Close the request's session before Flask-SQLAlchemy's teardown does (teardowns run last-registered
    first). The response is already built then: a rollback that fails because the server went away must
    not turn it into a 500; the pool has invalidated that connection already."""
    from sqlalchemy.exc import DBAPIError

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        try:
            db.session.remove()
        except DBAPIError as error:
            app.logger.warning("closing a session failed: %s", error.__class__.__name__)
            db.session.registry.clear()


def _sqlite_pragmas(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
