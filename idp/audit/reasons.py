"""Sign-in log reasons: stored in English (Graph's signIns and the exports show them as they are) and translated
only when a page shows them. A fixed reason is marked with N_() where it is defined; a reason with a value in it
is registered with `template()` there, so that a page can find its template again in the stored text."""

import re

from flask_babel import gettext

_TEMPLATES: dict[str, re.Pattern] = {}


def template(msgid: str) -> str:
    """Register a reason with `%(name)s` values (the caller marks it with N_()) and return it unchanged."""
    parts = re.split(r"%\((\w+)\)s", msgid)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    _TEMPLATES[msgid] = re.compile(f"^{regex}$", re.S)
    return msgid


def shown(reason: str | None) -> str | None:
    """A stored reason in the page's language; one the catalogue does not know stays as it is."""
    if not reason:
        return reason
    for msgid, pattern in _TEMPLATES.items():
        match = pattern.match(reason)
        if match:
            return gettext(msgid, **{name: shown(value) for name, value in match.groupdict().items()})
    return gettext(reason)
