"""Discovery and JWKS from the quickest layer: a WSGI dispatcher in front of Flask.

The two documents every relying party and API fetch are the same bytes for every request to the same URL
(tenant, host, scheme), so the first answer Flask gives is kept, whole (status, headers, body), and replayed
for that URL without routing, request context or database: a discovery document for 60 s, the JWKS for 30 s,
the lifetimes of the caches behind them; a key rotation in this process clears them at once
(`keys.forget`). Only plain GETs of those two paths (no query string) come here; anything else, and any
answer but a 200 without cookies, goes through Flask as before.
"""

import re

from .. import clock
from ..cache import TtlCache

PATHS = re.compile(r"/[^/]{1,256}/(?:v2\.0/\.well-known/(openid-configuration)|discovery/v2\.0/(keys))")
LIFETIME = {"openid-configuration": 60, "keys": 30}
STORE = "metadata-responses"  # a named cache of the app, cleared with the key set
MAX_ENTRIES = 1024  # hosts and tenants a client may name are unbounded: so is not this store


class MetadataDispatcher:
    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self.store = app.extensions.setdefault("idp_caches", {}).setdefault(STORE, TtlCache(60))

    def __call__(self, environ, start_response):
        match = PATHS.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        key = (
            environ["PATH_INFO"],
            environ.get("HTTP_HOST") or environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("wsgi.url_scheme"),
            environ.get("SCRIPT_NAME", ""),
        )
        now = clock.timestamp()  # the injectable clock, as every other cache: tests age it by moving time
        hit = self.store.items.get(key)
        if hit is not None and hit[0] > now:
            status, headers, body = hit[1]
            start_response(status, list(headers))
            return [body]
        return self._answer_and_keep(environ, start_response, key, now, LIFETIME[match.group(1) or match.group(2)])

    def _answer_and_keep(self, environ, start_response, key, now, lifetime):
        answer = {}

        def keep_status(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        chunks = self.wsgi_app(environ, keep_status)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = answer.get("headers", [])
        if answer.get("status", "").startswith("200 ") and not any(h.lower() == "set-cookie" for h, _ in headers):
            if len(self.store.items) >= MAX_ENTRIES:
                self.store.clear()
            kept = tuple((h, "0" if h == "X-SQL-Statements" else v) for h, v in headers)  # a replay runs no SQL
            self.store.items[key] = (now + lifetime, (answer["status"], kept, body))
        return [body]
