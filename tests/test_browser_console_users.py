"""An administrator manages a user from the console in headless Chromium: create, edit, block sign-in (the user is
refused with Entra's message), allow it again, reset the password (the next sign-in asks for a new one), groups,
and delete after the confirmation. Screenshots of the users list and the user page in every language."""

import base64
import html

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from idp import i18n
from idp.directory import service as directory
from idp.extensions import db

from .browser import ARTIFACTS, fill_and_submit, heading, press
from .support import PASSWORD
from .test_browser_tap import sign_in

pytestmark = pytest.mark.browser
ADMIN = "/contoso.test/admin"


def _confirm(driver, summary_id: str) -> None:
    """Open a destructive action's question, then press its second button (the only one that posts)."""
    driver.find_element(By.ID, summary_id).click()
    press(driver, f"#{summary_id} + form button[name=confirm]")


def _status(driver) -> str:
    return driver.find_element(By.ID, "flash-ok").text


def _sign_in_as(driver, base: str, upn: str, password: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/contoso.test/mysecurityinfo/")
    fill_and_submit(driver, "username", upn)
    fill_and_submit(driver, "password", password)


def _admin(driver, base: str, path: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + ADMIN + path)
    sign_in(driver, "admin@contoso.test", PASSWORD)


def test_create_edit_block_allow_reset_groups_delete(live, seed, browser):
    directory.create_group(seed.tenant, "Sales")
    db.session.commit()
    base = live.url.replace("127.0.0.1", "localhost")
    _admin(browser, base, "/users")
    press(browser, "#new-user")
    browser.find_element(By.ID, "f-displayName").send_keys("Nora New")
    Select(browser.find_element(By.ID, "f-domain")).select_by_value("contoso.test")
    fill_and_submit(browser, "f-upnLocal", "nora")
    assert heading(browser) == "Nora New" and _status(browser) == "User created."
    first_password = html.unescape(browser.find_element(By.ID, "new-password").text)
    nora = directory.find_user(seed.tenant, "nora@contoso.test")
    assert nora is not None and nora.force_change_password

    fill_and_submit(browser, "f-jobTitle", "Engineer")
    assert (
        _status(browser) == "Profile saved."
        and browser.find_element(By.ID, "f-jobTitle").get_attribute("value") == "Engineer"
    )
    press(browser, "#add-to-group")
    assert "Sales" in browser.find_element(By.ID, "groups").text

    _confirm(browser, "block-sign-in")
    assert browser.find_element(By.ID, "sign-in-state").text == "Blocked"
    _sign_in_as(browser, base, "nora@contoso.test", first_password)
    assert "Your account has been locked. Contact your support person" in browser.page_source

    _admin(browser, base, f"/users/{nora.id}")
    press(browser, "#allow-sign-in")
    assert browser.find_element(By.ID, "sign-in-state").text == "Allowed"
    _confirm(browser, "reset-password")
    new_password = html.unescape(browser.find_element(By.ID, "new-password").text)
    assert new_password != first_password
    browser.get(browser.current_url)
    assert not browser.find_elements(By.ID, "new-password")  # shown once
    _sign_in_as(browser, base, "nora@contoso.test", new_password)
    assert heading(browser) == "Update your password"  # the reset forces a change

    _admin(browser, base, f"/users/{nora.id}")
    press(browser, "#groups button.link")  # remove from Sales
    assert browser.find_element(By.ID, "no-groups")
    browser.find_element(By.ID, "delete-user").click()
    assert browser.find_element(By.CSS_SELECTOR, "#delete-user + form p").text.startswith("Delete nora@contoso.test?")
    assert directory.find_user(seed.tenant, "nora@contoso.test") is not None  # opening the question deletes nothing
    press(browser, "#delete-user + form button[name=confirm]")
    assert _status(browser) == "nora@contoso.test was deleted."
    db.session.expire_all()
    assert directory.find_user(seed.tenant, "nora@contoso.test") is None


def _shoot(driver, name: str) -> None:
    screens = ARTIFACTS / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    (screens / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def test_users_pages_in_every_language(live, seed, browser):
    group = directory.create_group(seed.tenant, "Sales")
    directory.add_member(group, seed.alice)
    db.session.commit()
    base = live.url.replace("127.0.0.1", "localhost")
    _admin(browser, base, "/users")
    for lang in i18n.languages():
        browser.add_cookie({"name": i18n.COOKIE, "value": lang})
        browser.get(base + ADMIN + "/users")
        assert heading(browser) == ("Users" if lang == "en" else "ユーザー")
        _shoot(browser, f"console-users-{lang}")
        browser.get(base + ADMIN + f"/users/{seed.alice.id}")
        assert browser.find_element(By.ID, "h-account").text == ("Account" if lang == "en" else "アカウント")
        _shoot(browser, f"console-user-{lang}")
        browser.get(base + ADMIN + "/users/new")
        _shoot(browser, f"console-user-new-{lang}")
