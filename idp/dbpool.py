"""Pool liveness: a pooled connection that sat idle is pinged before use, one in steady use is not.

SQLAlchemy's `pool_pre_ping` pings on every checkout, a round trip per request that was a quarter of a token
request's time. A connection checked in moments ago is as good as the ping would prove; if the server did go
away in between, the statement fails as a disconnect, the request answers 503 and SQLAlchemy invalidates the
whole pool, so the next request reconnects.

A request that only reads one row (introspection) reads it with `read_first`, outside the session's
transaction: one statement is its own consistent snapshot, so a BEGIN and a ROLLBACK around it would be two
more round trips to the server for nothing.
"""

import time
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Executable, Row, event, exc

from .extensions import db


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _stamp(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()  # `info` lives as long as this DBAPI connection

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # just connected, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("pooled connection is gone") from error  # the pool reconnects


def read_first(statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
    """The first row of one SELECT, on a pooled connection in autocommit mode (no transaction at all)."""
    with _autocommit(db.engine).connect() as connection:
        return connection.execute(statement, params).first()


@lru_cache(maxsize=8)  # one per engine; an engine lives as long as its app
def _autocommit(engine: Engine) -> Engine:
    return engine.execution_options(isolation_level="AUTOCOMMIT")  # the same pool; the mode is the client's


UNAVAILABLE = "The service is temporarily unavailable. Try again in a moment."
RETRY_AFTER_SECONDS = "5"


def is_unavailable(error: exc.DBAPIError) -> bool:
    """The database is unreachable (restart, fail-over, a killed connection), not a failed statement."""
    return isinstance(error, exc.OperationalError) or error.connection_invalidated
