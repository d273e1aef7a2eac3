"""Pool liveness: a pooled connection that sat idle is pinged before use, one in steady use is not.

SQLAlchemy's `pool_pre_ping` pings on every checkout, a round trip per request that was a quarter of a token
request's time. A connection checked in moments ago is as good as the ping would prove; if the server did go
away in between, the statement fails as a disconnect, the request answers 503 and SQLAlchemy invalidates the
whole pool, so the next request reconnects.
"""

import time
from typing import Any

from sqlalchemy import Engine, event, exc


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


UNAVAILABLE = "The service is temporarily unavailable. Try again in a moment."
RETRY_AFTER_SECONDS = "5"


def is_unavailable(error: exc.DBAPIError) -> bool:
    """The database is unreachable (restart, fail-over, a killed connection), not a failed statement."""
    return isinstance(error, exc.OperationalError) or error.connection_invalidated
