"""Pages say what is wrong with a field in their own words, in the reader's language; the service's messages name
Graph's properties (the Graph API keeps them)."""

import pytest

from idp import i18n
from idp.kit.fields import MFA_FIELDS
from idp.extensions import db
from idp.mfa import settings

from .support import Agent, enable_method, password_sign_in
from .test_console_pages import admin_agent


@pytest.mark.parametrize(
    "section, field, value, expected",
    [
        ("accountLockout", "mfaDenialsBeforeLockout", "many", "1 ～ 99 の整数を入力してください。"),
        ("fraudAlert", "fraudCode", "12ab", "1 ～ 8 桁の数字 (0-9) を入力してください。"),
        ("phoneCallSettings", "callerIdNumber", "+81 3 1234 5678", "米国の電話番号"),
    ],
)
def test_mfa_settings_errors_on_a_japanese_page_name_no_property(live, seed, section, field, value, expected):
    agent = admin_agent(live, lang="ja", path=f"/contoso.test/admin/mfa/{section}")
    entered = {**settings.get(seed.tenant.id, section), field: value}
    form = {name: ("on" if v is True else v) for name, v in entered.items() if v is not False}
    agent.submit(f"/admin/mfa/settings/{section}", **form)
    text = agent.text()
    assert agent.page.status_code == 400 and expected in text
    assert field not in text and "Property" not in text and "must be" not in text
    with pytest.raises(settings.SettingsError, match=f"Property '{field}'"):  # Graph's own words are unchanged
        settings.update(seed.tenant.id, section, {field: value})


def test_an_empty_phone_number_in_japanese_is_asked_for_in_plain_words(live, seed):
    enable_method(seed.tenant.id, "Sms")
    agent = Agent(live.url)
    agent.http.cookies.set(i18n.COOKIE, "ja")
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test")
    agent.go("/contoso.test/mysecurityinfo/phone")
    agent.submit("/mysecurityinfo/phone", phone_type="mobile", number="  ")
    text = agent.text()
    assert agent.page.status_code == 400 and "電話番号を + と国番号から入力してください。" in text
    assert "phoneNumber" not in text and "プロパティ" not in text


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"defaultLength": "49"}, "この項目に示されている範囲の整数を入力してください。"),
        ({"defaultLength": "many"}, "この項目に示されている範囲の整数を入力してください。"),
        ({"minimumLifetimeInMinutes": "600"}, "最短の有効期間は、最長の有効期間より長くできません。"),
    ],
)
def test_policy_errors_on_a_japanese_page_name_no_property(live, seed, changes, expected):
    enable_method(seed.tenant.id, "TemporaryAccessPass")
    agent = admin_agent(live, lang="ja", path="/contoso.test/admin/policies/TemporaryAccessPass")
    valid = {
        "defaultLength": "12",
        "minimumLifetimeInMinutes": "60",
        "maximumLifetimeInMinutes": "480",
        "defaultLifetimeInMinutes": "60",
    }
    agent.submit("", state="on", **{**valid, **changes})
    text = agent.text()
    assert agent.page.status_code == 400 and expected in text
    assert "Property" not in text and "LifetimeInMinutes" not in text and "defaultLength" not in text


def test_every_number_field_shows_the_range_the_service_accepts(app, seed):
    """A field that says 1–9999 where the service takes 1–1440 invites a refusal the page itself announced as fine."""
    numbers = {key: f for key, f in MFA_FIELDS.items() if f.control == "number"}
    assert numbers
    for (section, prop), spec in numbers.items():
        for inside in (spec.minimum, spec.maximum):
            settings.update(seed.tenant.id, section, {prop: inside})
        for outside in (spec.minimum - 1, spec.maximum + 1):
            with pytest.raises(settings.SettingsError):
                settings.update(seed.tenant.id, section, {prop: outside})
        db.session.rollback()


@pytest.mark.parametrize(
    "ranges, expected",
    [
        ("2001:db8::/32", "2001:db8::/32 は IPv6 の範囲です。信頼できる IP には IPv4 の範囲だけを指定できます。"),
        ("not a range", "not a range は CIDR 表記の IP 範囲ではありません。"),
        (
            "192.168.0.0/16",
            "192.168.0.0/16 にはプライベート アドレスまたは予約済みアドレス (192.168.0.0/16) が含まれています。",
        ),
    ],
)
def test_trusted_ip_errors_on_a_japanese_page_are_in_its_own_words(live, seed, ranges, expected):
    """Which range and why it was refused, all in Japanese: no English detail beside it any more."""
    agent = admin_agent(live, lang="ja", path="/contoso.test/admin/mfa/trustedIps")
    agent.submit("/admin/mfa/settings/trustedIps", ranges=ranges)
    text = agent.text()
    assert agent.page.status_code == 400 and expected in text
    assert '<span lang="en"' not in agent.page.text and "CIDR notation" not in text and "trusted IPs take" not in text
    assert settings.get(seed.tenant.id, "trustedIps")["ranges"] == []  # nothing was stored
