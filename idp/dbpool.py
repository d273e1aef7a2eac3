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
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Engine, Select, event, exc

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


def read_first(statement: Select[Any], params: dict[str, Any]) -> Any | None:
    """The first row of one SELECT (a named tuple of its columns), read on a pooled connection in autocommit
    mode: no transaction at all. The statement is compiled once per dialect and run by the driver itself,
    since SQLAlchemy's connection and result objects cost four times the driver's work for one row; types
    are converted as SQLAlchemy would, errors become SQLAlchemy's (a disconnect invalidates the pool)."""
    engine = db.engine
    prepared = _prepare(statement, engine.dialect)
    bound = prepared.bind(params)
    connection = engine.raw_connection()
    try:
        values = _first_row(connection, prepared.sql, bound)
    except engine.dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(engine, connection, prepared.sql, bound, error) from error
    finally:
        connection.close()  # back to the pool
    return None if values is None else prepared.row(values)


#: called with (SQL, driver connection) before each `read_first` runs: the statement counter, tests
statement_observers: list[Callable[[str, Any], None]] = []


@dataclass(frozen=True)
class _Prepared:
    sql: str
    bind_names: tuple[str, ...]  # the order a positional driver (sqlite3) takes them in; empty: by name
    bind_processors: dict[str, Any]  # name: the type's bind processor
    row_type: type
    result_processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: dict[str, Any]

    def bind(self, params: dict[str, Any]) -> dict[str, Any] | tuple[Any, ...]:
        values = {**self.defaults, **params}
        for name, process in self.bind_processors.items():
            values[name] = process(values[name])
        return tuple(values[name] for name in self.bind_names) if self.bind_names else values

    def row(self, values: Sequence[Any]) -> Any:
        converted = (v if p is None else p(v) for p, v in zip(self.result_processors, values, strict=True))
        return self.row_type(*converted)


@lru_cache(maxsize=64)  # statements are module constants; one entry per statement and engine
def _prepare(statement: Select[Any], dialect: Dialect) -> _Prepared:
    compiled = statement.compile(dialect=dialect)
    binds = compiled.binds
    bind_processors: dict[str, Any] = {}
    for name, parameter in binds.items():
        process = parameter.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bind_processors[name] = process
    columns = list(statement.selected_columns)
    return _Prepared(
        sql=compiled.string,
        bind_names=tuple(compiled.positiontup or ()) if dialect.positional else (),
        bind_processors=bind_processors,
        row_type=namedtuple("Row", [column.key for column in columns]),  # type: ignore[misc]
        result_processors=tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns),
        defaults={name: parameter.value for name, parameter in binds.items() if parameter.value is not None},
    )


def _first_row(connection: Any, sql: str, bound: Any) -> Any:
    driver = connection.driver_connection
    switch = getattr(driver, "autocommit", None) is False  # psycopg: a client-side switch, no round trip
    if switch:
        driver.autocommit = True  # sqlite3 (legacy transaction control) begins no transaction for a SELECT
    try:
        for observe in statement_observers:
            observe(sql, driver)
        cursor = connection.cursor()
        try:
            cursor.execute(sql, bound)
            return cursor.fetchone()
        finally:
            cursor.close()
    finally:
        if switch:
            driver.autocommit = False  # the pool hands out connections as the session expects them


def _as_sqlalchemy_error(engine: Engine, connection: Any, sql: str, bound: Any, error: Any) -> Exception:
    disconnected = engine.dialect.is_disconnect(error, connection.driver_connection, None)
    if disconnected:  # as SQLAlchemy does: this connection is dropped, every older one replaced at checkout
        engine.pool._invalidate(connection, error)
    wrapped: Exception = exc.DBAPIError.instance(
        sql,
        bound,
        error,
        engine.dialect.loaded_dbapi.Error,
        connection_invalidated=disconnected,
        dialect=engine.dialect,
    )
    return wrapped


UNAVAILABLE = "The service is temporarily unavailable. Try again in a moment."
RETRY_AFTER_SECONDS = "5"


def is_unavailable(error: exc.DBAPIError) -> bool:
    """The database is unreachable (restart, fail-over, a killed connection), not a failed statement."""
    return isinstance(error, exc.OperationalError) or error.connection_invalidated
