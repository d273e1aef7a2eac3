"""A person enrols an authenticator app in My Security Info (headless Chromium), then signs in with it."""

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By

from idp import clock
from idp.extensions import db
from idp.mfa import settings
from idp.methods.oath import totp

from .browser import fill_and_submit, heading, press, screenshot
from .support import PASSWORD
from .test_oath_api_and_signin import enable

pytestmark = pytest.mark.browser


def now_code(secret):
    return totp.code_at(secret, totp.step_of(clock.timestamp(), 30))


def test_enrol_an_authenticator_app_and_sign_in_with_it(app, live, seed, browser):
    enable(seed.tenant.id, "SoftwareOath")
    settings.update(seed.tenant.id, "rememberMfa", {"isEnabled": True})
    db.session.commit()
    browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "alice@contoso.test")
    fill_and_submit(browser, "password", PASSWORD)
    press(browser, "button[value=no]")
    press(browser, "+ Add an authenticator app", By.LINK_TEXT)
    assert browser.find_element(By.CSS_SELECTOR, ".qr svg")
    secret = browser.find_element(By.ID, "oath-secret").text.replace(" ", "")  # shown in groups of four
    screenshot(browser, "securityinfo-oath-enrol")
    fill_and_submit(browser, "code", now_code(secret))
    row = browser.find_element(By.CSS_SELECTOR, "tr.method-software-oath")
    assert "Authenticator app" in row.text
    screenshot(browser, "securityinfo-oath-added")
    browser.delete_all_cookies()
    clock.advance(timedelta(seconds=30))  # the next code (the enrolment's code is never accepted twice)
    browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "alice@contoso.test")
    fill_and_submit(browser, "password", PASSWORD)
    field = browser.find_element(By.ID, "otc")
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert browser.find_element(By.ID, "remember_mfa")  # "Don't ask again for 90 days"
    assert browser.find_element(By.ID, "report-fraud").text == "I didn't try to sign in — report it"
    screenshot(browser, "signin-oath")
    fill_and_submit(browser, "otc", now_code(secret))
    press(browser, "button[value=no]")
    assert heading(browser) == "Security info"
