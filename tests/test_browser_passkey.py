"""Passkeys in headless Chromium with its virtual authenticator: a newcomer signs in with a TAP, registers a
passkey, signs out, signs in with the passkey alone; then the administrator blocks that model."""

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
from selenium.webdriver.support.ui import WebDriverWait

from idp.directory import service as directory
from idp.extensions import db

from .authenticator import VIRTUAL_AAGUID
from .browser import fill_and_submit, heading, press, screenshot
from .test_passkeys import enable_fido2, restrict
from .test_tap_signin import enable_tap, give_tap

pytestmark = pytest.mark.browser


def virtual_authenticator(browser):
    options = VirtualAuthenticatorOptions()
    options.protocol = VirtualAuthenticatorOptions.Protocol.CTAP2
    options.transport = VirtualAuthenticatorOptions.Transport.INTERNAL
    options.has_resident_key = True
    options.has_user_verification = True
    options.is_user_verified = True
    browser.add_virtual_authenticator(options)


def test_tap_then_register_a_passkey_then_sign_in_with_it_then_blocked(app, live, seed, browser):
    base = live.url.replace("127.0.0.1", "localhost")  # WebAuthn needs a domain (or localhost) as the RP id
    enable_tap(seed.tenant.id)
    enable_fido2(seed.tenant.id)
    newcomer = directory.create_user(seed.tenant, "new@contoso.test", "Newcomer")
    db.session.commit()
    _, code = give_tap(newcomer, usable_once=True)
    virtual_authenticator(browser)

    browser.get(f"{base}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "new@contoso.test")
    fill_and_submit(browser, "tap", code)
    press(browser, "button[value=no]")
    press(browser, "+ Add a passkey", By.LINK_TEXT)
    browser.find_element(By.ID, "display_name").send_keys("Laptop")
    screenshot(browser, "securityinfo-passkey-add")
    press(browser, "#passkey-create")
    row = browser.find_element(By.CSS_SELECTOR, "tr.method-passkey")
    assert "Laptop" in row.text and VIRTUAL_AAGUID in row.text
    screenshot(browser, "securityinfo-passkey-added")

    # sign out, then sign in with the passkey alone, no username typed: the username field offers the passkey
    # (conditional mediation), and the virtual authenticator answers as a user picking it would
    browser.delete_all_cookies()
    browser.get(f"{base}/contoso.test/mysecurityinfo/")
    assert wait_for_heading(browser, "Stay signed in?")
    screenshot(browser, "signin-passkey-kmsi")
    press(browser, "button[value=no]")
    assert heading(browser) == "Security info"
    assert "new@contoso.test" in browser.find_element(By.TAG_NAME, "main").text

    # the administrator blocks this authenticator model: sign-in is refused, saying why
    restrict(seed.tenant.id, "block", VIRTUAL_AAGUID)
    browser.delete_all_cookies()
    browser.get(f"{base}/contoso.test/mysecurityinfo/")
    alert = WebDriverWait(
        browser, 15, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    ).until(lambda d: d.find_element(By.CSS_SELECTOR, "[role=alert]"))
    assert "security key model is not allowed by your organization" in alert.text
    assert browser.find_element(By.ID, "username")  # back on the username page, nothing signed in
    screenshot(browser, "signin-passkey-blocked")


def wait_for_heading(browser, text):
    return WebDriverWait(
        browser, 15, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    ).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == text)
