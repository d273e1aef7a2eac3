"""What every page's template may ask: whether the page is served on an IP address (WebAuthn refuses those),
the same page's localhost address, and the tenant's branding."""

import ipaddress

from flask import Flask, request


def host_is_ip() -> bool:
    host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host[1:].split("]")[0]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def localhost_url() -> str:
    """This page's URL with `localhost` for the IP address (what `make run` prints)."""
    port = request.host.rsplit(":", 1)[1] if ":" in request.host and not request.host.endswith("]") else ""
    return f"{request.scheme}://localhost{':' + port if port else ''}{request.full_path.rstrip('?')}"


def init_app(app: Flask) -> None:
    @app.context_processor
    def page_helpers():
        return {"host_is_ip": host_is_ip, "localhost_url": localhost_url}
