"""Languages: catalogues complete for every string in the code, the user's choice before Accept-Language, and a
switcher on every page."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from idp import i18n

from .support import Agent, forms

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("idp/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
KEYWORDS = {"_": None, "_l": None, "N_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "_n": (1, 2)}


def _source_messages() -> set[str]:
    found = set()
    for *_, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.once
@pytest.mark.parametrize("lang", [lang for lang in i18n.languages() if lang != i18n.DEFAULT])
def test_every_string_in_the_code_is_translated(lang):
    with (i18n.CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=lang)
    untranslated = sorted(
        m
        for m in _source_messages()
        if not (entry := catalogue.get(m))
        or not entry.string
        or entry.fuzzy
        or (isinstance(entry.string, tuple) and not all(entry.string))
    )
    assert not untranslated, (
        f"{len(untranslated)} strings lack a {lang} translation (make translations): {untranslated[:20]}"
    )
    problems = [(message.id, errors) for message, errors in catalogue.check() if errors]
    assert not problems, problems


def _lang(page) -> str:
    return re.search(r'<html lang="([^"]+)"', page.text).group(1)


def test_language_follows_the_choice_then_accept_language(live, seed):
    agent = Agent(live.url)
    agent.http.headers["Accept-Language"] = "ja,en;q=0.5"
    agent.go("/contoso.test/login/")
    assert _lang(agent.page) == "ja" and "<title>サインイン" in agent.page.text
    agent.submit("/language", lang="en")
    assert agent.page.url.endswith("/contoso.test/login/") and _lang(agent.page) == "en"
    assert "<title>Sign in" in agent.page.text
    agent.http.headers["Accept-Language"] = "fr"
    agent.go("/contoso.test/login/")
    assert _lang(agent.page) == "en"
    agent.submit("/language", lang="ja")
    assert _lang(agent.page) == "ja"


def test_the_switcher_goes_back_to_local_paths_only(live, seed):
    agent = Agent(live.url)
    agent.go("/contoso.test/login/")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        agent.go("/contoso.test/login/")
        form = next(f for f in forms(agent.page.text) if "/language" in f["action"])
        response = agent.http.post(
            live.url + "/language", data={**form["fields"], "lang": "ja", "next": target}, allow_redirects=False
        )
        assert response.status_code == 303 and response.headers["Location"] == "/"
    refused = agent.http.post(live.url + "/language", data={"lang": "ja", "next": "/"}, allow_redirects=False)
    assert refused.status_code == 400  # no CSRF token


def test_an_unknown_language_is_ignored(live, seed):
    agent = Agent(live.url)
    agent.go("/contoso.test/login/")
    agent.submit("/language", lang="xx")
    assert _lang(agent.page) == "en" and "idp_lang" not in agent.http.cookies


@pytest.mark.once
def test_every_method_label_is_in_the_catalogues(app):
    """Method labels come from the registry, not from a template: each must still be translatable."""
    from idp.i18n import names
    from idp.methods import all_methods

    assert {m.label for m in all_methods()} <= set(names.METHODS)
