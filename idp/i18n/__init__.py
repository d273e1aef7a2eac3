"""Languages. Catalogues live in translations/<lang>/LC_MESSAGES/messages.po: adding a language is adding a
catalogue. The .po files are compiled into the instance folder when they change, so a fresh clone needs no build
step. The language is the user's choice (a cookie set by the switcher on every page), then Accept-Language."""

import os
import tempfile
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, current_app, has_request_context, redirect, request
from flask_babel import Babel, get_locale

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOGUES = ROOT / "translations"
DEFAULT = "en"
COOKIE = "idp_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()
bp = Blueprint("i18n", __name__)


def languages() -> list[str]:
    """The default language, then every language with a catalogue."""
    found = sorted(p.parent.parent.name for p in CATALOGUES.glob("*/LC_MESSAGES/messages.po"))
    return [DEFAULT, *(lang for lang in found if lang != DEFAULT)]


def compile_catalogues(target: Path) -> Path:
    """Compile every .po newer than its .mo into target/<lang>/LC_MESSAGES/messages.mo (atomically: several
    processes may start at once)."""
    for po in CATALOGUES.glob("*/LC_MESSAGES/messages.po"):
        mo = target / po.relative_to(CATALOGUES).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        handle, temporary = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            write_mo(out, catalogue)
        os.replace(temporary, mo)
    return target


def select_locale() -> str:
    offered = current_app.config["IDP_LANGUAGES"]
    if not has_request_context():
        return DEFAULT
    chosen = request.cookies.get(COOKIE)
    if chosen in offered:
        return chosen
    return request.accept_languages.best_match(offered, default=DEFAULT)


def language_choices() -> list[tuple[str, str]]:
    """(code, the language's name in itself), for the switcher."""
    return [
        (code, Locale.parse(code).get_display_name(code).capitalize()) for code in current_app.config["IDP_LANGUAGES"]
    ]


@bp.post("/language")
def choose():
    """The switcher's form: remember the choice and go back where the user was (a local path only)."""
    lang = request.form.get("lang", "")
    back = request.form.get("next", "/")
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = "/"
    response = redirect(back, 303)
    if lang in current_app.config["IDP_LANGUAGES"]:
        response.set_cookie(
            COOKIE, lang, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", secure=request.is_secure
        )
    return response


def _value(value, format_datetime):
    """A value inside a Message as the page shows it: dates in the locale, a nested Message translated."""
    from datetime import datetime

    from .names import Message

    if isinstance(value, datetime):
        return format_datetime(value)
    return translate(value) if isinstance(value, Message) else value


def translate(text):
    """The `t` filter: a marked name or message in the page's language (a Message with its values filled in)."""
    from flask_babel import format_datetime, gettext

    from .names import Message

    if isinstance(text, Message):
        values = {k: _value(v, format_datetime) for k, v in text.values.items()}
        return gettext(text.msgid, **values)
    return gettext(text) if text else text


def init_app(app: Flask) -> None:
    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config.setdefault("IDP_LANGUAGES", languages())
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    app.add_template_filter(translate, "t")

    @app.context_processor
    def language_context():
        return {"language_choices": language_choices, "current_language": lambda: str(get_locale() or DEFAULT)}
