"""An Entra-shaped OpenID Connect identity provider."""
import os
from pathlib import Path

from flask import Flask, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config
from .extensions import csrf, db, limiter, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=os.environ.get("IDP_INSTANCE_PATH", str(ROOT / "instance")),
                instance_relative_config=True)
    config.load(app, overrides)
    app.session_interface = _SessionInterface()
    if app.config["IDP_TRUSTED_PROXIES"]:
        hops = app.config["IDP_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    _import_models()

    from . import methods
    methods.load_builtin()

    from .oidc import server as oidc_server
    from .oidc.views import bp as oidc_bp
    from .signin import sessions
    from .signin.views import bp as signin_bp
    from .demo import bp as demo_bp
    from .graph import bp as graph_bp
    from .graph import users as _graph_users, openapi  # noqa: F401
    from .guests import api as _guests_api  # noqa: F401
    from .policy import api as _policy_api, strengths_api as _strengths_api  # noqa: F401
    from . import mfa
    mfa.init_app(app)
    oidc_server.init_app(app)
    app.register_blueprint(graph_bp, url_prefix="/v1.0", name="graph_v1")
    app.register_blueprint(graph_bp, url_prefix="/beta", name="graph_beta")
    app.register_blueprint(openapi.bp, url_prefix="/graph")
    app.register_blueprint(oidc_bp)
    app.register_blueprint(signin_bp)
    app.register_blueprint(demo_bp)
    from .guests import bp as guests_bp
    app.register_blueprint(guests_bp)
    from .mailer import bp as devmail_bp
    app.register_blueprint(devmail_bp)
    from .console import bp as console_bp
    from .securityinfo import bp as securityinfo_bp
    app.register_blueprint(console_bp)
    app.register_blueprint(securityinfo_bp)
    app.after_request(sessions.apply_cookie_ops)

    _tenant_routing(app)
    _security_headers(app)
    _error_pages(app)
    _sqlite_pragmas(app)
    _pool_liveness(app)
    if app.config.get("IDP_COUNT_SQL"):
        _statement_counter(app)

    from .cli import idp_cli
    app.cli.add_command(idp_cli)


    return app


def _statement_counter(app) -> None:
    """Benchmarks: each response says how many SQL statements it ran (X-SQL-Statements)."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*args, **kwargs):
        if has_request_context():
            g.sql_statements = g.get("sql_statements", 0) + 1

    @app.after_request
    def _report(response):
        response.headers["X-SQL-Statements"] = str(g.get("sql_statements", 0))
        return response


class _SessionInterface(SecureCookieSessionInterface):
    """The flow cookie is Secure whenever the request came over HTTPS (and always when configured)."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


def _import_models() -> None:
    from . import mailer as _mailer  # noqa: F401
    from .audit import models as _audit  # noqa: F401
    from .methods.email_otp import models as _email_otp  # noqa: F401
    from .methods.oath import models as _oath  # noqa: F401
    from .methods.passkey import models as _passkey  # noqa: F401
    from .mfa import models as _mfa  # noqa: F401
    from .methods.tap import models as _tap  # noqa: F401
    from .policy import models as _policy, strengths as _strengths  # noqa: F401
    from .directory import models as _directory  # noqa: F401
    from .oidc import models as _oidc  # noqa: F401
    from .signin import models as _signin  # noqa: F401


def _tenant_routing(app: Flask) -> None:
    """`/<tenant>/...` routes resolve the tenant (id or verified domain) once, into g.tenant."""
    from flask import abort

    from .directory import service as directory

    @app.url_value_preprocessor
    def resolve_tenant(endpoint, values):
        if values and "tenant" in values:
            ref = values.pop("tenant")
            if ref.lower() in directory.TENANTLESS:  # /common, /organizations: the app's own tenant
                g.tenant, g.tenantless = _tenant_of_calling_client(), True
                if g.tenant is None:
                    abort(400, description="The /common and /organizations endpoints need the app's client_id. "
                                           "To sign in, start at /common/login/ or use your organization's link.")
                g.tenant_ref = g.tenant.id
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
    client = find_client(request.values.get("client_id")
                         or (request.authorization.username if request.authorization else None))
    return client.tenant if client else None


def _security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin: the CSRF check over HTTPS needs our own Referer; other sites never see one
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "frame-ancestors 'none'; form-action 'self' http: https:; base-uri 'none'")
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.blueprint in ("oidc", "signin", "console", "securityinfo", "guests") or request.path.startswith("/_demo"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def _error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith(("/v1.0/", "/beta/")) or request.accept_mimetypes.best == "application/json":
            return {"error": {"code": error.name.replace(" ", ""), "message": error.description}}, error.code
        return render_template("error.html", title=error.name, message=error.description,
                               code=error.code), error.code

    from sqlalchemy.exc import DBAPIError, OperationalError

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error):
        """The database is unreachable (restart, fail-over): a clear 503; the pool recovers by itself."""
        if isinstance(error, DBAPIError) and not isinstance(error, OperationalError) and not error.connection_invalidated:
            return unexpected(error)
        app.logger.warning("database unavailable: %s", error.__class__.__name__)
        try:
            db.session.rollback()
        except DBAPIError:
            pass
        message = "The service is temporarily unavailable. Try again in a moment."
        headers = {"Retry-After": "5"}
        if request.path.startswith(("/v1.0/", "/beta/")):
            return {"error": {"code": "serviceUnavailable", "message": message}}, 503, headers
        if request.blueprint == "oidc" and request.method == "POST":
            return {"error": "temporarily_unavailable", "error_description": message}, 503, headers
        return render_template("error.html", title="Temporarily unavailable", message=message, code=503), 503, headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        return render_template("error.html", title="Something went wrong",
                               message="The server could not complete this request. Try again.", code=500), 500


def _pool_liveness(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from .dbpool import ping_idle_connections
    with app.app_context():
        ping_idle_connections(db.engine, app.config["IDP_DB_PING_IDLE_SECONDS"])


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
