"""Short-lived per-process caches of what almost never changes (tenant look-ups, signing keys).

An entry lives `ttl` seconds, so a change made by another process shows within that time; a change made in
this process clears the cache at once. Caches belong to the app, so every app (and every test) starts empty.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached, object_session
from sqlalchemy.orm.util import identity_key

from . import clock

T = TypeVar("T")


class TtlCache:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self.items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, load: Callable[[], T]) -> T:
        """The cached value, or `load()` (cached unless it is None: a miss is never remembered)."""
        now = clock.timestamp()  # the injectable clock: moving time in a test ages the cache too
        hit = self.items.get(key)
        if hit is not None and hit[0] > now:
            return cast(T, hit[1])
        value = load()
        if value is not None:
            self.items[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        self.items.clear()


def named(name: str, ttl: float = 30) -> TtlCache:
    caches: dict[str, TtlCache] = current_app.extensions.setdefault("idp_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, TtlCache(ttl))
    return cache


def per_request(name: str, key: Any, load: Callable[[], T]) -> T:
    """`load()` once per request for `key` (every time outside a request); `cleared_on_change(name, ...)`
    forgets it when a row changes."""
    if not has_request_context():
        return load()
    memo = g.setdefault("idp_memo", {}).setdefault(name, {})
    if key not in memo:
        memo[key] = load()
    return cast(T, memo[key])


def remember(name: str, key: Any, value: Any) -> None:
    """What `per_request(name, key, ...)` answers for the rest of this request, read by a query it shared."""
    if has_request_context():
        g.setdefault("idp_memo", {}).setdefault(name, {})[key] = value


def cleared_on_change(name: str, *models: Any) -> None:
    """Clear the named cache of this process whenever a row of `models` is written here (other processes
    see the change when their entry expires)."""

    def clear(_mapper: Any, _connection: Any, row: Any) -> None:
        if has_request_context():
            g.get("idp_memo", {}).pop(name, None)
        if has_app_context():
            named(name).clear()
            session = object_session(row) if row is not None else None
            if session is not None:  # again once it commits or rolls back: a concurrent reader may have
                session.info.setdefault(CHANGED, set()).add(name)  # cached what was committed before

    for model in models:
        for change in ("after_insert", "after_update", "after_delete"):
            event.listen(model, change, clear)

    def clear_on_bulk(state: Any) -> None:  # update(Model)... / delete(Model)... bypass the mapper events
        if (state.is_update or state.is_delete) and state.bind_mapper is not None:
            if state.bind_mapper.class_ in models:
                clear(None, None, None)
                state.session.info.setdefault(CHANGED, set()).add(name)

    event.listen(Session, "do_orm_execute", clear_on_bulk)


CHANGED = "idp_changed_caches"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _clear_changed(session: Session, *_: Any) -> None:
    for name in session.info.pop(CHANGED, ()):
        if has_app_context():
            named(name).clear()


def column_values(row: Any) -> dict[str, Any] | None:
    """A row's column attributes, the form in which rows are cached (never live ORM objects)."""
    if row is None:
        return None
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


def attached(model: Any, values: dict[str, Any] | None) -> Any:
    """Rebuild a cached row and attach it to the request's session without a query (lazy relationships
    still load on first use)."""
    from .extensions import db

    if values is None:
        return None
    key = identity_key(model, tuple(values[name] for name in _primary_key(model)))
    known = db.session.identity_map.get(key)
    if known is not None:
        return known
    row = detached(model, values)
    db.session.add(row)
    return row


def detached(model: Any, values: dict[str, Any] | None) -> Any:
    """Rebuild a cached row outside any session: its columns only (a relationship would raise), for a path
    that reads a row and needs nothing else, without the cost of attaching it."""
    if values is None:
        return None
    # filled in as loaded, unmodified state (no constructor, no attribute events, no merge copy: this runs on
    # every token request); JSON columns hold lists and dicts, so no request may change the cached ones
    row = inspect(model).class_manager.new_instance()
    row.__dict__.update({name: _json_copy(value) for name, value in values.items()})
    make_transient_to_detached(row)
    return row


def _json_copy(value: Any) -> Any:
    """A copy of a JSON column's value (lists, dicts, scalars): what copy.deepcopy does, at a fraction of its cost."""
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    return value


@functools.cache
def _primary_key(model: Any) -> tuple[str, ...]:
    return tuple(column.key for column in inspect(model).primary_key)
