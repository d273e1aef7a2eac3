"""The pages as products: every page in every language with no string left in English, no dead ends, sign-out
everywhere."""

import re
from html.parser import HTMLParser

import pytest

from idp import i18n

from .support import PASSWORD, Agent, password_sign_in

# Names that stay as they are in every language (products, standards, codes)
KEEP = {
    "IdP",
    "AAGUID",
    "TOTP",
    "SHA",
    "PIN",
    "QR",
    "ID",
    "PKCE",
    "SMTP",
    "FIDO",
    "FIDO2",
    "OATH",
    "UTC",
    "CSV",
    "JSON",
    "MFA",
    "Microsoft",
    "Authenticator",
    "Entra",
    "UPN",
    "IP",
    "IPv4",
    "IPv6",
    "SVG",
    "PNG",
    "JPEG",
    "wav",  # file extensions
    "mp3",
    "English",
    "AADSTS",
    "URI",
    "Web",  # the platform, so named in Entra's Japanese pages
    "MDS",
    "MDS3",
    "BLOB",
    "URL",
    "OTP",
    "TAP",
    "Graph",
    "API",
    "Contoso",
    "Fabrikam",
    "SMS",
    "CIDR",
}
HIDDEN_TAGS = {"script", "style", "code", "pre", "textarea"}
LABEL_ATTRS = {"aria-label", "placeholder", "title", "alt"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found, self._hidden, self._open = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN_TAGS or ("translate", "no") in attrs:  # translate="no": data, as HTML marks it
            self._hidden += 1
            self._open.append(tag)
        self.found.extend(value for name, value in attrs if name in LABEL_ATTRS and value)

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.found.append(data.strip())


def english_left(page: str, data: set[str]) -> list[str]:
    """Visible strings of a page that still hold English words, once the page's data (names, addresses) is
    taken out."""
    parser = _Text()
    parser.feed(page)
    left = []
    for text in parser.found:
        text = re.sub(r"https?://\S+|\S+@\S+", " ", text)  # addresses are data
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, " ")
        words = [
            w for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", text) if sum(c.isalpha() for c in w) >= 3 and w not in KEEP
        ]
        if words:
            left.append(text)
    return left


def signed_in(live, upn, lang, path):
    agent = Agent(live.url)
    agent.http.cookies.set(i18n.COOKIE, lang)
    agent.go(path)
    password_sign_in(agent, upn, PASSWORD)
    return agent


USER_PAGES = [
    "/contoso.test/mysecurityinfo/",
    "/contoso.test/mysecurityinfo/passkey",
    "/contoso.test/mysecurityinfo/oath/app",
    "/contoso.test/login/done",
]
ANONYMOUS_PAGES = ["/", "/contoso.test/login/", "/_demo/"]


@pytest.fixture
def data(seed):
    return {
        seed.tenant.display_name,
        seed.alice.upn,
        seed.alice.display_name,
        seed.admin.upn,
        "contoso.test",
        "someone@example.com",
        "日本語",
    }


def test_sign_in_and_security_info_pages_hold_no_english_in_japanese(app, live, seed, data):
    from .support import enable_method

    app.config["IDP_DEV_MODE"] = True  # the demo app (one of the pages) exists in development mode only
    enable_method(seed.tenant.id, "softwareOath")
    enable_method(seed.tenant.id, "fido2")
    pages = {}
    for path in ANONYMOUS_PAGES:
        agent = Agent(live.url)
        agent.http.cookies.set(i18n.COOKIE, "ja")
        agent.go(path)
        pages[path] = agent.page
    agent = Agent(live.url)
    agent.http.cookies.set(i18n.COOKIE, "ja")
    agent.go("/contoso.test/login/")
    agent.submit("/login", username=seed.alice.upn)
    pages["password"] = agent.page
    agent.submit("/login/method/password", password=PASSWORD)
    pages["kmsi"] = agent.page
    agent.submit("/login/kmsi", stay="no")
    for path in USER_PAGES:
        agent.go(path)
        pages[path] = agent.page
    for name, page in pages.items():
        assert page.status_code == (403 if name.endswith("/passkey") else 200), (name, page.status_code)  # needs MFA
        assert '<html lang="ja">' in page.text, name
        assert not english_left(page.text, data), (name, english_left(page.text, data))


def test_the_detector_finds_an_untranslated_string(data):
    assert english_left("<p>サインイン</p><button>Save changes</button>", data) == ["Save changes"]
    assert english_left('<input placeholder="Search users">', data) == ["Search users"]
    assert not english_left('<p>Contoso の管理者</p><code>Authorization</code><p translate="no">ABCD EFGH</p>', data)


def test_sign_out_everywhere_ends_the_other_sessions_only(live, seed):
    here = signed_in(live, seed.alice.upn, "en", "/contoso.test/mysecurityinfo/")
    there = signed_in(live, seed.alice.upn, "en", "/contoso.test/mysecurityinfo/")
    here.submit("/sign-out-everywhere")
    assert "Signed out of 1 other session." in here.text()
    here.go("/contoso.test/mysecurityinfo/")
    assert "Security info" in here.text()
    there.go("/contoso.test/mysecurityinfo/")
    assert "Enter password" not in there.text() and "Email or username" in there.text()


def test_sign_out_ends_this_browser_and_offers_to_sign_in_again(live, seed):
    agent = signed_in(live, seed.alice.upn, "en", "/contoso.test/mysecurityinfo/")
    agent.submit("/mysecurityinfo/signout")
    assert "You signed out" in agent.text() and 'href="/contoso.test/login/"' in agent.page.text
    agent.go("/contoso.test/mysecurityinfo/")
    assert "Email or username" in agent.text()


def test_error_pages_offer_a_next_step(live, seed):
    agent = signed_in(live, seed.alice.upn, "en", "/contoso.test/admin/")
    assert agent.page.status_code == 403
    assert "Sign in with a different account" in agent.text() and "My Security Info" in agent.text()
    expired = Agent(live.url)
    expired.go("/contoso.test/login/kmsi")
    assert expired.page.status_code == 400 and "Sign in again" in expired.text()


def test_the_demo_tenant_turns_on_every_method_and_prints_localhost_links(app, live):
    from idp.cli import DEMO_METHODS
    from idp.policy import service as policy

    runner = app.test_cli_runner()
    out = runner.invoke(args=["idp", "seed-demo", "--base-url", live.url]).output
    port = live.url.rsplit(":", 1)[1]
    assert f"http://localhost:{port}/_demo/" in out and f"http://localhost:{port}/contoso.test/admin/" in out
    assert "127.0.0.1" not in out.replace("Use localhost, not 127.0.0.1", "")
    from idp.directory import service as directory

    tenant = directory.find_tenant("contoso.test")
    assert all(policy.get(tenant.id, m).state == "enabled" for m in DEMO_METHODS)
    member = next(line.split()[0] for line in out.splitlines() if "member" in line and "@contoso.test" in line)
    password = next(line.split()[2] for line in out.splitlines() if line.strip().startswith(member))
    agent = Agent(f"http://localhost:{port}")
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, member, password)
    for action in ("Add an authenticator app", "Add a hardware token", "Add a passkey"):
        assert action in agent.text(), action


def test_a_page_on_an_ip_address_explains_that_passkeys_need_localhost(live, seed):
    from .support import enable_method

    enable_method(seed.tenant.id, "Fido2")
    on_ip = Agent(live.url)
    on_ip.go("/contoso.test/login/")
    port = live.url.rsplit(":", 1)[1]
    assert 'id="webauthn-ip"' in on_ip.page.text
    assert f"http://localhost:{port}/contoso.test/login/" in on_ip.text()
    on_localhost = Agent(f"http://localhost:{port}")
    on_localhost.go("/contoso.test/login/")
    assert "passkey-sign-in" in on_localhost.page.text and 'id="webauthn-ip"' not in on_localhost.page.text


def test_my_security_info_forgets_remembered_devices(live, seed):
    from idp.extensions import db
    from idp.mfa.models import MfaUserState

    agent = signed_in(live, seed.alice.upn, "en", "/contoso.test/mysecurityinfo/")
    agent.submit("/forget-devices")
    assert agent.page.url.endswith("/mysecurityinfo/") and "will ask for verification" in agent.text()
    db.session.expire_all()
    assert db.session.get(MfaUserState, seed.alice.id).remember_revoked_at is not None


def _japanese_agent(live) -> Agent:
    agent = Agent(live.url)
    agent.http.cookies.set(i18n.COOKIE, "ja")
    return agent


def test_phone_and_authenticator_pages_hold_no_english_in_japanese(app, live, seed, data):
    from idp.extensions import db
    from idp.methods.phone import service as phones
    from idp.policy import service as policy

    from .support import enable_method

    app.config["IDP_DEV_MODE"] = True  # the simulated phone
    for method_id in ("Sms", "Voice", "MicrosoftAuthenticator"):
        enable_method(seed.tenant.id, method_id)
    data |= {"+1 2065550123", "+1 XXXXXXXX23", "Microsoft Authenticator"}  # numbers as shown
    pages = {}
    agent = signed_in(live, seed.alice.upn, "ja", "/contoso.test/mysecurityinfo/")
    pages["security info"] = agent.page
    for path in ("/contoso.test/mysecurityinfo/phone", "/contoso.test/mysecurityinfo/authenticator"):
        pages[path] = agent.go(path)
    agent.go("/contoso.test/mysecurityinfo/phone")
    agent.submit("/mysecurityinfo/phone", phone_type="mobile", number="+1 2065550123")
    pages["confirm phone"] = agent.page
    phones.add(seed.alice, "mobile", "+1 2065550123")
    db.session.commit()
    for step in ("sms", "voice"):
        agent = _japanese_agent(live)
        agent.go("/contoso.test/login/")
        agent.submit("/login", username=seed.alice.upn)
        agent.submit("/login/method/password", password=PASSWORD)
        pages[step] = agent.go(f"/contoso.test/login/method/{step}")
        config = policy.get(seed.tenant.id, "Sms")  # the call step next: no more text messages
        config.state = "disabled"
        policy.save(seed.tenant.id, config)
        db.session.commit()
    assert 'name="otc"' in pages["sms"].text and 'value="call"' in pages["voice"].text  # the steps themselves
    assert "pairing-link" in pages["/contoso.test/mysecurityinfo/authenticator"].text
    for name, page in pages.items():
        assert page.status_code == 200 and '<html lang="ja">' in page.text, (name, page.status_code)
        assert not english_left(page.text, data), (name, english_left(page.text, data))


def test_every_form_field_says_what_the_browser_may_fill_in():
    """Password managers and autofill follow autocomplete: a sign-in field names its token (username,
    current-password, one-time-code, tel…), an administrator's setting says "off" so that the browser does not
    offer what was typed on another page. Searches and date filters may keep the browser's history."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    exempt = re.compile(r'type="?(hidden|checkbox|radio|file|submit|search|date)\b')
    missing = [
        f"{path.relative_to(root)}: {' '.join(tag.split())[:80]}"
        for path in root.rglob("*.html")
        for tag in re.findall(r"<input\b[^>]*>", path.read_text(), re.S)
        if not exempt.search(tag) and "autocomplete=" not in tag
    ]
    assert not missing, missing
