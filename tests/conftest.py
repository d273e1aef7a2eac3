"""Shared fixtures: an app on a fresh database (SQLite, or PostgreSQL where marked), a live server
in a thread, a movable clock, and a seeded tenant."""

import os
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from idp import clock, create_app
from idp.extensions import db

from .browser import browser  # noqa: F401  (fixture)
from .graph_fixtures import graph_as, staff  # noqa: F401  (fixtures)
from .smtp import smtp  # noqa: F401  (fixture)
from .support import Seed, pg_available

PG_ADMIN_URL = os.environ.get("IDP_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FAST_HASH = {"IDP_ARGON2_TIME_COST": 1, "IDP_ARGON2_MEMORY_KIB": 1024, "IDP_ARGON2_PARALLELISM": 1}


def _config(instance: Path, url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key",
        "IDP_ENCRYPTION_KEYS": "k1:" + "A" * 43 + "=",
        "RATELIMIT_ENABLED": False,
        **FAST_HASH,
    }


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A SQLite database built once by the migrations; each test gets a copy."""
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "idp.db"
    app = create_app(_config(path.parent, f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
        from idp.oidc import keys

        keys.ensure_keys()  # RSA generation is slow: do it once, every test copies the keys
        db.engine.dispose()
    return path


def make_pg_database(template: str | None = None) -> str:
    from sqlalchemy import create_engine, text

    name = f"idp_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


class _ClonePool:
    """Clones of the template database made ahead, in a background thread: CREATE DATABASE ... TEMPLATE takes
    about half a second, which would otherwise be paid at the start of every PostgreSQL test."""

    def __init__(self, template: str, ahead: int = 2):
        import queue
        import threading

        self.template, self.ready = template, queue.Queue(maxsize=ahead)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._fill, daemon=True)
        self.thread.start()

    def _fill(self):
        import queue
        import time

        while not self.stopped.is_set():
            try:
                url = make_pg_database(self.template)
            except Exception:  # the server is restarting (a fault test): try again shortly
                time.sleep(0.5)
                continue
            while not self.stopped.is_set():
                try:
                    self.ready.put(url, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                drop_pg_database(url)

    def take(self) -> str:
        return self.ready.get(timeout=120)

    def close(self):
        import queue

        self.stopped.set()
        self.thread.join(timeout=30)
        while True:
            try:
                drop_pg_database(self.ready.get_nowait())
            except queue.Empty:
                return


@pytest.fixture(scope="session")
def pg_clones(pg_template):
    pool = _ClonePool(pg_template)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory):
    """A PostgreSQL database built once by the migrations; each test clones it (CREATE DATABASE ... TEMPLATE)."""
    if not pg_available(PG_ADMIN_URL):
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    from flask_migrate import upgrade

    url = make_pg_database()
    app = create_app(_config(tmp_path_factory.mktemp("pg"), url))
    with app.app_context():
        upgrade()
        from idp.oidc import keys

        keys.ensure_keys()
        db.session.remove()
        db.engine.dispose()
    yield url.rsplit("/", 1)[1]
    drop_pg_database(url)


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=[os.environ.get("IDP_TEST_BACKEND", "sqlite")])
def backend(request):
    """The database of `app`: SQLite, or PostgreSQL with IDP_TEST_BACKEND=postgresql (make test runs both)."""
    return request.param


@pytest.fixture
def app(request, tmp_path, template_db, backend):
    """The app on a fresh database. Tests parametrize `backend` with "postgresql" to run there too."""
    if backend == "postgresql":
        url = request.getfixturevalue("pg_clones").take()
        application = create_app(_config(tmp_path, url))
    else:
        shutil.copy(template_db, tmp_path / "idp.db")
        url = f"sqlite:///{tmp_path / 'idp.db'}"
        application = create_app(_config(tmp_path, url))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    if backend == "postgresql":
        drop_pg_database(url)


@pytest.fixture(autouse=True)
def _reset_clock():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture(autouse=True)
def _restore_the_limiter():
    """The limiter is one object for every app a test makes: a test that turns limits on, or makes an app
    with app-wide limits, must not leave them to the tests after it."""
    from idp.extensions import limiter

    manager = limiter.limit_manager
    saved = limiter.enabled, manager._default_limits, manager._application_limits
    yield
    limiter.enabled = saved[0]
    manager.set_default_limits(saved[1])
    manager.set_application_limits(saved[2])


@pytest.fixture
def seed(app) -> Seed:
    return Seed.create(app)


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(autouse=True, scope="session")
def _quiet_werkzeug():
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
