"""The phone and authenticator pages in Japanese: the development simulators (phone, authenticator) and the
phone and authenticator services' refusals, with no English sentence of the catalogue left on the page."""

import html
import re
from functools import cache

from babel.messages.pofile import read_po

from idp import i18n

from .support import Agent, password_sign_in
from .test_phone import at_second_factor, with_mobile
from .test_phone import dev  # noqa: F401  (the fixture)
from .test_push import at_push, pairing_link
from .support import enable_method

PLACEHOLDER = re.compile(r"%\(\w+\)s")


@cache
def _sentences() -> dict[str, str]:
    """English fragments of at least two words from the Japanese catalogue whose translation differs."""
    with (i18n.CATALOGUES / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="ja")
    found = {}
    for message in catalogue:
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        for fragment in PLACEHOLDER.split(message.id):
            if len(fragment.strip().split()) >= 2:
                found[fragment.strip()] = message.id
    return found


def english_left(agent: Agent) -> list[str]:
    """Catalogue sentences left in English; what a call speaks (<q>) is in the call's own language."""
    page = re.sub(r"<q>.*?</q>", "", agent.page.text, flags=re.S)
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    return sorted(msgid for fragment, msgid in _sentences().items() if fragment in text)


def japanese(live) -> Agent:
    agent = Agent(live.url)
    agent.http.cookies.set(i18n.COOKIE, "ja")
    return agent


def test_the_development_phone_in_japanese(dev, live, seed):  # noqa: F811
    with_mobile(seed, "Voice")
    at_second_factor(live, seed)  # a ringing call
    phone = japanese(live)
    phone.go("/_dev/phone/")
    assert "このサーバーが送信したテキスト メッセージと通話" in phone.text() and "呼び出し中" in phone.text()
    assert not english_left(phone), english_left(phone)
    phone.submit("/answer")
    assert "応答しました" in phone.text() and "押すキー" in phone.text()
    assert not english_left(phone), english_left(phone)


def test_the_simulated_authenticator_and_its_refusals_in_japanese(app, live, seed):
    app.config["IDP_DEV_MODE"] = True
    enable_method(seed.tenant.id, "MicrosoftAuthenticator")
    device = japanese(live)
    device.go("/_dev/authenticator/")
    device.submit("/_dev/authenticator/pair", link="https://not-a-pairing-link")
    assert device.page.status_code == 400 and "認証アプリのペアリング リンク" in device.text()
    link = pairing_link(seed)
    device.submit("/_dev/authenticator/pair", link=link)
    assert "alice@contoso.test とペアリングしました。" in device.text()
    device.submit("/_dev/authenticator/pair", link=link)  # the service's refusal, translated on the page
    assert "このペアリング コードはもう有効ではありません。" in device.text()
    at_push(live, seed)
    device.go("/_dev/authenticator/")
    assert "サインインしようとしていますか?" in device.text() and "いいえ、拒否します" in device.text()
    assert not english_left(device), english_left(device)


def test_phone_number_refusals_in_japanese(dev, live, seed):  # noqa: F811
    enable_method(seed.tenant.id, "Sms")
    agent = japanese(live)
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test")
    agent.go("/contoso.test/mysecurityinfo/phone")
    agent.submit("/mysecurityinfo/phone", phone_type="mobile", number="+1 555")
    assert agent.page.status_code == 400 and "'+1 555' は有効な電話番号ではありません。" in agent.text()
    agent.submit("/mysecurityinfo/phone", phone_type="mobile", number="2065550123")
    assert "電話番号は + と国番号で始まる必要があります" in agent.text()
    assert not english_left(agent), english_left(agent)
