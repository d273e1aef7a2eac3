"""What every page's template may ask: whether the page is served on an IP address (WebAuthn refuses those),
the same page's localhost address, and the tenant's branding; and how a page shows a service's refusal."""

import ipaddress

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l

from .errors import ServiceError
from .extensions import db

#: the error page's heading for a refusal, by status, when the page names none
REFUSAL_TITLES = {
    400: _l("That was not accepted"),
    403: _l("You can't do that"),
    404: _l("Not found"),
    409: _l("That conflicts with what exists"),
    413: _l("That is too large"),
    429: _l("Too many attempts"),
    503: _l("Temporarily unavailable"),
}


def refusal_page(error: ServiceError, title: str | None = None):
    """A service's refusal as a page: the change is rolled back, the message shown (translated where the
    catalogue has it) with the status, and error.html's next steps as the way forward."""
    db.session.rollback()
    title = title or str(REFUSAL_TITLES.get(error.status, REFUSAL_TITLES[400]))
    return render_template("error.html", title=title, message=error.message, code=error.status), error.status


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
