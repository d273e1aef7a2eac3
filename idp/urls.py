"""Absolute URLs of this server, for what leaves the request (mails, tokens, discovery, Location headers).

They are built from the configured issuer base (`IDP_BASE_URL`) when there is one; otherwise from the request,
whose Host Flask has checked against TRUSTED_HOSTS (`IDP_ALLOWED_HOSTS`, the base's host and local names, see
config.trusted_hosts): a forged Host header is refused with a 400 before any view runs, so it never reaches a link.
"""

import functools
import re
from urllib.parse import unquote, urlsplit

from flask import current_app, g, has_request_context, request, url_for
from werkzeug.sansio.utils import get_current_url


def base_url() -> str:
    configured = current_app.config.get("IDP_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return root_url(request.scheme, request.host, request.root_path)  # the Host has passed TRUSTED_HOSTS
    return g.root_url  # a request answered below Flask (oidc/quick_path.py), its Host checked the same way


@functools.lru_cache(maxsize=256)
def root_url(scheme: str, host: str, root_path: str) -> str:
    """request.url_root without its trailing slash, computed once per origin (it runs on every token)."""
    return get_current_url(scheme, host, root_path).rstrip("/")


def external_url(endpoint: str, **values) -> str:
    return base_url() + url_for(endpoint, **values)


# Anything a browser might drop or turn into a separator: control characters and backslashes.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")


def local_target(value) -> str | None:
    """The one check of a post-sign-in target (`return_to`): a path on this origin, or None. Browsers strip
    tabs and newlines and read backslashes as slashes (`/%09/evil.example` becomes `//evil.example`), so
    those are refused outright, also percent-encoded (in any number of layers), as is any scheme or host."""
    if not isinstance(value, str) or not value.startswith("/") or " " in value or len(value) > 2048:
        return None
    layer = value
    for _ in range(4):  # each decoding layer must still be a plain local path
        if _UNSAFE.search(layer) or layer.startswith("//"):
            return None
        parts = urlsplit(layer)
        if parts.scheme or parts.netloc:
            return None
        decoded = unquote(layer)
        if decoded == layer:
            return value
        layer = decoded
    return None


def cookie_name(name: str) -> str:
    """Over HTTPS every cookie of this server is a `__Host-` cookie (Secure, Path=/, no Domain): a sibling
    subdomain or a plain-HTTP page cannot plant or overwrite it."""
    return f"__Host-{name}" if request.is_secure else name
