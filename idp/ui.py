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


#: what the page says for a refusal whose reason it has no sentence for, by status
GENERAL_REFUSALS = {
    400: _l("That was not accepted. Check what you entered, then try again."),
    403: _l("You don't have permission to do that. Ask an administrator who has it."),
    404: _l("That was not found. It may have been deleted: go back and reload the page."),
    409: _l("That conflicts with something that already exists. Change it, then try again."),
    413: _l("That is too large. Try again with something smaller."),
    429: _l("There were too many attempts. Wait a few minutes, then try again."),
    503: _l("The service is temporarily unavailable. Try again in a few minutes."),
}

#: the pages' words for each refusal (ServiceError.reason_id), registered by the page modules with `say()`
_SENTENCES: dict = {}


def say(sentences: dict) -> None:
    """Register what the pages say for refusal reasons (ServiceError.reason_id): {reason_id: _l("... %(value)s ...")}, one whole sentence (or
    two) per reason, saying what went wrong and what to do; the values come from the error's `values`."""
    _SENTENCES.update(sentences)


#: who may manage whose methods (idp.methods.rbac): every method's pages
say(
    {
        "methods.own_account": _l(
            "You cannot change this method for your own account in the admin console. Use My Security Info, or "
            "ask another administrator."
        ),
        "methods.insufficient_role": _l(
            "Your role does not allow you to manage this user's sign-in methods. Ask a Privileged Authentication "
            "Administrator or a Global Administrator."
        ),
        "methods.no_permission": _l(
            "Your sign-in does not carry the permission to manage sign-in methods. Sign in again, or ask an "
            "administrator."
        ),
    }
)


def _shown(value):
    from datetime import datetime

    from flask_babel import format_datetime

    return format_datetime(value, "medium") if isinstance(value, datetime) else value


def refusal_text(error: ServiceError, fallback=None) -> str:
    """A refusal in the reader's language: the sentence registered for its reason; else its message when the
    catalogue has it (a marked message); else, in English, the service's own message, and in another language
    the page's `fallback` (its sentence for the field) or the general sentence for the status. The service's
    English never reaches a page in another language."""
    from flask_babel import get_locale
    from flask_babel import gettext as _

    from .i18n import translate
    from .i18n.names import Message

    sentence = _SENTENCES.get(error.reason_id or "")
    if sentence is not None:
        try:
            return str(sentence) % {k: _shown(v) for k, v in error.values.items()}
        except (KeyError, TypeError, ValueError):  # a value the sentence needs is missing: say it generally
            pass
    message = error.message
    if isinstance(message, Message) or (message and _(message) != message):
        return translate(message)
    if str(get_locale() or "en").startswith("en"):
        return message
    return str(fallback or GENERAL_REFUSALS.get(error.status, GENERAL_REFUSALS[400]))


def refusal_page(error: ServiceError, title: str | None = None):
    """A service's refusal as a page: the change is rolled back, the refusal said in the reader's language
    (`refusal_text`) with the status, and error.html's next steps as the way forward."""
    db.session.rollback()
    title = title or str(REFUSAL_TITLES.get(error.status, REFUSAL_TITLES[400]))
    message = refusal_text(error)
    return render_template("error.html", title=title, message=message, code=error.status), error.status


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
