"""Short-lived per-process caches of what almost never changes (tenant look-ups, signing keys).

An entry lives `ttl` seconds, so a change made by another process shows within that time; a change made in
this process clears the cache at once. Caches belong to the app, so every app (and every test) starts empty.
"""
import copy
import functools

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from . import clock


class TtlCache:
    def __init__(self, ttl: float):
        self.ttl, self.items = ttl, {}

    def get(self, key, load):
        """The cached value, or `load()` (cached unless it is None: a miss is never remembered)."""
        now = clock.timestamp()  # the injectable clock: moving time in a test ages the cache too
        hit = self.items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if value is not None:
            self.items[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        self.items.clear()


def named(name: str, ttl: float = 30) -> TtlCache:
    caches = current_app.extensions.setdefault("idp_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, TtlCache(ttl))
    return cache


def column_values(row) -> dict | None:
    """A row's column attributes, the form in which rows are cached (never live ORM objects)."""
    if row is None:
        return None
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


def attached(model, values: dict | None):
    """Rebuild a cached row and attach it to the request's session without a query (lazy relationships
    still load on first use)."""
    from .extensions import db
    if values is None:
        return None
    key = identity_key(model, tuple(values[name] for name in _primary_key(model)))
    known = db.session.identity_map.get(key)
    if known is not None:
        return known
    # JSON columns hold lists and dicts: no request may change the cached ones
    row = model(**{name: copy.deepcopy(value) if isinstance(value, (list, dict)) else value
                   for name, value in values.items()})
    make_transient_to_detached(row)
    return db.session.merge(row, load=False)


@functools.cache
def _primary_key(model) -> tuple[str, ...]:
    return tuple(column.key for column in inspect(model).primary_key)
