"""An administrator creates a Temporary Access Pass in the console; the newcomer signs in with it in
headless Chromium and lands on My Security Info, asked to add a method."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from idp.directory import service as directory
from idp.extensions import db

from .browser import fill_and_submit, press, screenshot
from .support import PASSWORD
from .test_tap_signin import enable_tap

pytestmark = pytest.mark.browser


def sign_in(driver, upn, secret, field="password"):
    fill_and_submit(driver, "username", upn)
    fill_and_submit(driver, field, secret)
    press(driver, "button[value=no]")
    WebDriverWait(driver, 15).until(lambda d: "/login/" not in d.current_url)  # the redirect back has landed


def test_console_pass_then_newcomer_signs_in(app, live, seed, browser):
    enable_tap(seed.tenant.id)
    newcomer = directory.create_user(seed.tenant, "new@contoso.test", "Newcomer")
    db.session.commit()
    browser.get(f"{live.url}/contoso.test/admin/")
    sign_in(browser, "admin@contoso.test", PASSWORD)
    browser.get(f"{live.url}/contoso.test/admin/users/{newcomer.id}")
    screenshot(browser, "console-user")
    browser.find_element(By.ID, "tap-lifetime").clear()
    browser.find_element(By.ID, "tap-lifetime").send_keys("120")
    press(browser, "//button[normalize-space()='Add Temporary Access Pass']", By.XPATH)
    code = browser.find_element(By.ID, "tap-code").text
    screenshot(browser, "console-tap-created")
    assert len(code) == 8
    browser.delete_all_cookies()
    browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "new@contoso.test")
    assert browser.find_element(By.ID, "tap").get_attribute("autocomplete") == "one-time-code"
    screenshot(browser, "signin-tap")
    fill_and_submit(browser, "tap", code)
    press(browser, "button[value=no]")
    banner = browser.find_element(By.CSS_SELECTOR, ".banner.warn")
    assert "only way to sign in" in banner.text
    screenshot(browser, "securityinfo-tap-only")
