"""A person signs in to the demo relying party in headless Chromium."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from idp.cli import seed_demo

from .browser import fill_and_submit, heading, press, screenshot

pytestmark = pytest.mark.browser


def test_sign_in_through_the_demo_relying_party(app, live, browser):
    app.config["IDP_DEV_MODE"] = True  # the demo app exists in development mode only
    seed_demo(live.url)
    browser.get(f"{live.url}/_demo/")
    screenshot(browser, "demo-start")
    press(browser, "#demo-sign-in")
    username = browser.find_element(By.ID, "username")
    assert username.get_attribute("autocomplete") == "username webauthn"
    username.send_keys("alice@contoso.test")
    screenshot(browser, "signin-identify")
    press(browser, "button.primary")
    password = browser.find_element(By.ID, "password")
    assert password.get_attribute("autocomplete") == "current-password"
    password.send_keys("Contoso-Alice-1")
    screenshot(browser, "signin-password")
    press(browser, "button.primary")
    assert "Stay signed in?" in heading(browser)
    screenshot(browser, "signin-kmsi")
    press(browser, "button[value=yes]")
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/_demo/"))  # back at the app
    screenshot(browser, "demo-claims")
    assert heading(browser) == "Signed in as alice@contoso.test"
    assert browser.find_element(By.CSS_SELECTOR, "td[data-claim=amr]").text == "['pwd']"
    assert browser.find_element(By.CSS_SELECTOR, "td[data-claim=tid]").text
    # sign out through RP-initiated logout, back to the demo page
    press(browser, "form button")
    assert browser.find_element(By.ID, "demo-sign-in")


def test_wrong_password_is_announced(app, live, browser):
    app.config["IDP_DEV_MODE"] = True  # the demo app exists in development mode only
    seed_demo(live.url)
    browser.get(f"{live.url}/_demo/")
    press(browser, "#demo-sign-in")
    fill_and_submit(browser, "username", "alice@contoso.test")
    fill_and_submit(browser, "password", "nope")
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert alert.text == "Your account or password is incorrect."
    assert browser.find_element(By.ID, "password").get_attribute("aria-invalid") == "true"
    screenshot(browser, "signin-password-error")
