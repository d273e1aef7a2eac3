"""Short-lived per-process caches of what almost never changes (tenant look-ups, signing keys).

An entry lives `ttl` seconds, so a change made by another process shows within that time; a change made in
this process clears the cache at once. Caches belong to the app, so every app (and every test) starts empty.
"""
from flask import current_app

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
