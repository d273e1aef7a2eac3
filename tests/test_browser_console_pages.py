"""Headless Chromium through the console's Named locations, Authentication strengths and App registrations:
each change made with the page's own controls, and each proved where it matters (a trusted location skips
MFA, a strength holds its passkey limit, a registered app's secret gets a token at once)."""

import base64
from datetime import timedelta

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from idp import clock, create_app, i18n
from idp.extensions import db
from idp.mfa import settings
from idp.mfa.models import NamedLocation
from idp.oidc.models import Client
from idp.policy import strengths
from idp.policy.strengths import AuthenticationStrength

from .browser import ARTIFACTS, heading, press, screenshot
from .conftest import LiveServer, _config
from .test_browser_tap import sign_in
from .test_mfa_settings import at_oath_step
from .test_strengths import with_totp
from .support import PASSWORD

pytestmark = pytest.mark.browser
ADMIN = "/contoso.test/admin"
YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"


def _type(driver, field_id: str, text: str) -> None:
    field = driver.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(text)


def _shoot_both_languages(driver, base: str, path: str, name: str) -> None:
    """A full-page screenshot of the page in every language (test-artifacts/console-<name>-<lang>.png)."""
    for lang in i18n.languages():
        driver.add_cookie({"name": i18n.COOKIE, "value": lang})
        driver.get(base + path.split("#")[0])
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        heading(driver)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"console-{name}-{lang}.png").write_bytes(base64.b64decode(shot["data"]))
    driver.add_cookie({"name": i18n.COOKIE, "value": "en"})


def _signed_in_admin(driver, live):
    driver.get(f"{live.url}{ADMIN}/")
    sign_in(driver, "admin@contoso.test", PASSWORD)


def _mfa_asked_from(server, seed, address: str) -> bool:
    _, agent = at_oath_step(server, seed, headers={"X-Forwarded-For": address})
    return "/login/method/oath" in agent.page.url


def test_named_location_created_edited_and_deleted_in_the_browser_and_trust_skips_mfa(
    app, live, seed, browser, tmp_path
):
    with_totp(seed.alice)
    _signed_in_admin(browser, live)
    browser.get(f"{live.url}{ADMIN}/")
    press(browser, "//nav[@class='console-nav']//a[normalize-space()='Named locations']", By.XPATH)
    assert heading(browser) == "Named locations"
    press(browser, "#new-location")
    _type(browser, "f-displayName", "Branch office")
    _type(browser, "f-ipRanges", "81.2.69.0/24\n10.0.0.0/8")
    browser.find_element(By.ID, "f-isTrusted").click()
    press(browser, "#save")
    error = browser.find_element(By.ID, "f-ipRanges-error").text
    assert "private" in error and browser.find_element(By.ID, "f-isTrusted").is_selected()  # the input stays
    assert browser.find_element(By.ID, "f-ipRanges").get_attribute("aria-describedby").endswith("f-ipRanges-error")
    _type(browser, "f-ipRanges", "81.2.69.0/24")
    press(browser, "#save")
    assert "Named location Branch office created." in browser.find_element(By.ID, "saved").text
    _shoot_both_languages(browser, live.url, f"{ADMIN}/locations", "named-locations")
    press(browser, "//td/a[normalize-space()='Branch office']", By.XPATH)
    location_url = browser.current_url
    _shoot_both_languages(browser, live.url, location_url.removeprefix(live.url), "named-location")

    # trusted: a sign-in from the range (behind a trusted proxy) skips the MFA prompt; from elsewhere it does not
    proxied = LiveServer(
        create_app({**_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]), "IDP_TRUSTED_PROXIES": 1})
    )
    try:
        assert not _mfa_asked_from(proxied, seed, "81.2.69.10") and _mfa_asked_from(proxied, seed, "81.2.70.10")
        browser.get(location_url)
        browser.find_element(By.ID, "f-isTrusted").click()  # no longer trusted
        _type(browser, "f-displayName", "Branch office (untrusted)")
        press(browser, "#save")
        assert browser.find_element(By.ID, "saved").text == "Saved."
        # the proxied server is another app, like another process: it applies the change once its cached
        # copy of the tenant's trusted locations runs out
        clock.advance(timedelta(seconds=settings.CACHE_SECONDS + 1))
        assert _mfa_asked_from(proxied, seed, "81.2.69.10")
    finally:
        clock.reset()
        proxied.stop()

    browser.find_element(By.ID, "delete-location").click()  # the question opens; only its button deletes
    press(browser, "//details[@class='confirm']//button[@value='yes']", By.XPATH)
    assert (
        "deleted" in browser.find_element(By.ID, "saved").text
        and "There are no named locations yet." in browser.page_source
    )
    db.session.expire_all()
    assert not db.session.scalars(select(NamedLocation)).all()


def test_custom_strength_with_a_passkey_limit_in_the_browser(live, seed, browser):
    _signed_in_admin(browser, live)
    browser.get(f"{live.url}{ADMIN}/policies")
    press(browser, "//nav[@class='console-nav']//a[normalize-space()='Authentication strengths']", By.XPATH)
    _shoot_both_languages(browser, live.url, f"{ADMIN}/authentication-strengths", "strengths")
    _shoot_both_languages(
        browser, live.url, f"{ADMIN}/authentication-strengths/{strengths.PHISHING_RESISTANT}", "strength-built-in"
    )
    browser.get(f"{live.url}{ADMIN}/authentication-strengths")
    press(browser, "#new-strength")
    _type(browser, "f-displayName", "Security keys of one model")
    browser.find_element(By.CSS_SELECTOR, "input[name=combination][value=fido2]").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=combination][value='password,hardwareOath']").click()
    _type(browser, "f-allowedAAGUIDs", YUBIKEY)
    press(browser, "#save")
    assert "Authentication strength Security keys of one model created." in browser.find_element(By.ID, "saved").text
    _shoot_both_languages(browser, live.url, browser.current_url.removeprefix(live.url), "strength")
    db.session.expire_all()
    (row,) = db.session.scalars(select(AuthenticationStrength)).all()
    assert row.allowed_combinations == ["fido2", "password,hardwareOath"]
    assert row.combination_configurations[0]["allowedAAGUIDs"] == [YUBIKEY]
    held = strengths.find(seed.tenant.id, row.id)
    assert held.meets(["fido2"], YUBIKEY) and not held.meets(["fido2"], "ee882879-721c-4913-9775-3dfcce97072a")


def test_register_an_app_with_a_secret_in_the_browser_and_it_gets_a_token_at_once(live, seed, browser):
    _signed_in_admin(browser, live)
    browser.get(f"{live.url}{ADMIN}/")
    press(browser, "//nav[@class='console-nav']//a[normalize-space()='App registrations']", By.XPATH)
    _shoot_both_languages(browser, live.url, f"{ADMIN}/apps", "apps")
    press(browser, "#new-app")
    _shoot_both_languages(browser, live.url, f"{ADMIN}/apps/new", "app-new")
    _type(browser, "f-displayName", "Nightly export")
    _type(browser, "f-web", "https://export.example/signin-oidc")
    press(browser, "#register")
    assert "Application Nightly export registered." in browser.find_element(By.ID, "saved").text
    app_id = browser.find_element(By.ID, "app-id").text
    _type(browser, "f-secretName", "nightly job")
    press(browser, "#add-secret")
    secret = browser.find_element(By.ID, "secret-value").text
    screenshot(browser, "console-app-secret-shown-en")
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": live.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    browser.find_element(By.CSS_SELECTOR, "button[data-copy='#secret-value']").click()
    WebDriverWait(browser, 5).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "button[data-copy='#secret-value']").text == "Copied"
    )
    copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[arguments.length - 1])")
    assert copied == secret  # the copy button puts the secret on the clipboard
    token = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        auth=(app_id, secret),
    )
    assert token.status_code == 200, token.text
    browser.refresh()  # shown once: a reload holds only the hint
    assert secret not in browser.page_source and not browser.find_elements(By.ID, "secret-value")
    _shoot_both_languages(browser, live.url, browser.current_url.removeprefix(live.url), "app")
    db.session.expire_all()
    client = db.session.get(Client, app_id)
    assert client.redirect_uris == ["https://export.example/signin-oidc"] and len(client.password_credentials) == 1
    browser.find_element(By.ID, "delete-app").click()
    press(browser, "//details[@class='confirm']/summary[@id='delete-app']/..//button[@value='yes']", By.XPATH)
    assert "Application Nightly export deleted." in browser.find_element(By.ID, "saved").text
    failed = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        auth=(app_id, secret),
    )
    assert failed.status_code == 401
