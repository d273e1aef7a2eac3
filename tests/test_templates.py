"""The templates share their form pieces: every POST form carries the CSRF token through the one macro."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).parent.parent / "templates"
FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)
HAND_WRITTEN = 'name="csrf_token"'
#: posts to the relying party (response_mode=form_post): our token must never leave for another origin
FOREIGN = {"oidc/form_post.html"}


def _post_forms():
    for path in sorted(TEMPLATES.rglob("*.html")):
        for form in FORM.finditer(path.read_text()):
            if re.search(r"method=\"?post", form["attrs"], re.I):
                yield path.relative_to(TEMPLATES).as_posix(), form["body"]


def test_every_post_form_uses_the_csrf_macro():
    forms = list(_post_forms())
    assert len(forms) > 50  # the pages' forms are found at all
    missing = [path for path, body in forms if "forms.csrf()" not in body and "{{ csrf() }}" not in body]
    assert sorted(set(missing)) == sorted(FOREIGN)
    assert not any(HAND_WRITTEN in body or "csrf" in body for path, body in forms if path in FOREIGN)


def test_the_token_input_is_written_once():
    written = [p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html") if HAND_WRITTEN in p.read_text()]
    assert written == ["macros/forms.html"]
