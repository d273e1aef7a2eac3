"""The console's menu on a phone: a "Menu" disclosure, closed at first and opened from the keyboard; on a wide
screen the menu is open and has no disclosure."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from idp import i18n
from idp.audit import record_audit, record_signin
from idp.extensions import db

from .browser import heading
from .test_browser_console_pages import ADMIN, _signed_in_admin

pytestmark = pytest.mark.browser


def _width(driver, width: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def test_the_menu_folds_away_on_a_phone_and_opens_from_the_keyboard(live, seed, browser):
    _signed_in_admin(browser, live)
    try:
        _width(browser, 390)
        browser.get(f"{live.url}{ADMIN}/users")
        heading(browser)
        toggle = browser.find_element(By.ID, "console-menu-toggle")
        nav = browser.find_element(By.CSS_SELECTOR, "nav.console-nav")
        assert toggle.is_displayed() and nav.size["height"] < 80, nav.size
        groups_link = nav.find_element(By.CSS_SELECTOR, "a[href$='/admin/groups']")
        assert not groups_link.is_displayed()
        browser.execute_script("arguments[0].focus()", toggle)
        toggle.send_keys(Keys.ENTER)
        assert groups_link.is_displayed() and nav.size["height"] > 80
        _width(browser, 1280)
        browser.get(f"{live.url}{ADMIN}/users")
        heading(browser)
        assert not browser.find_element(By.ID, "console-menu-toggle").is_displayed()
        assert (
            browser.find_element(By.CSS_SELECTOR, "nav.console-nav").find_element(By.LINK_TEXT, "Groups").is_displayed()
        )
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_long_japanese_button_labels_wrap_inside_the_card_on_a_phone(live, seed, browser):
    _signed_in_admin(browser, live)
    browser.add_cookie({"name": i18n.COOKIE, "value": "ja"})
    try:
        _width(browser, 390)
        browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
        heading(browser)
        overflowing = browser.execute_script(
            """const main = document.querySelector('main');
               const edge = main.getBoundingClientRect().right - parseFloat(getComputedStyle(main).paddingRight);
               return [...main.querySelectorAll('button, a.button')]
                 .filter((b) => b.offsetParent && b.getBoundingClientRect().right > edge + 0.5)
                 .map((b) => b.textContent.trim());"""
        )
        assert not overflowing, overflowing
    finally:
        browser.add_cookie({"name": i18n.COOKIE, "value": "en"})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("page", ["/users", "/logs/sign-ins", "/logs/audit"])
def test_the_user_and_log_tables_stack_on_a_phone_with_each_cell_named(live, seed, browser, page):
    record_audit(tenant_id=seed.tenant.id, actor_id=seed.admin.id, actor_type="user", activity="Update user")
    record_signin(tenant_id=seed.tenant.id, result="failure", upn="bob@contoso.test", failure_reason="unknown user")
    db.session.commit()
    _signed_in_admin(browser, live)
    browser.add_cookie({"name": i18n.COOKIE, "value": "ja"})
    try:
        _width(browser, 390)
        browser.get(f"{live.url}{ADMIN}{page}")
        heading(browser)
        cells = browser.execute_script(
            """const table = document.querySelector('table.stack');
               return {cut: table.scrollWidth > table.clientWidth + 1
                         || table.getBoundingClientRect().right > document.documentElement.clientWidth,
                       labels: [...table.querySelectorAll('tbody tr:first-child td')].map(
                         (td) => getComputedStyle(td, '::before').content)};"""
        )
        assert not cells["cut"], cells
        assert cells["labels"][0] in ('"日付"', '"ユーザー プリンシパル名"'), cells
        if page == "/logs/sign-ins":
            assert '"失敗の理由"' in cells["labels"], cells  # the reason column stacks with its name too
        _width(browser, 1280)
        browser.get(f"{live.url}{ADMIN}{page}")
        assert browser.find_element(By.CSS_SELECTOR, "table.stack thead").is_displayed()  # a wide screen: a table
    finally:
        browser.add_cookie({"name": i18n.COOKIE, "value": "en"})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_sign_in_list_stays_beside_its_detail_pane_in_japanese(live, seed, browser):
    """With the failure reason column, the list is wider: it wraps the reason and scrolls inside its column
    instead of running under the detail pane."""
    record_signin(
        tenant_id=seed.tenant.id, result="failure", upn="mallory@contoso.test", failure_reason="invalid password"
    )
    db.session.commit()
    _signed_in_admin(browser, live)
    browser.add_cookie({"name": i18n.COOKIE, "value": "ja"})
    try:
        _width(browser, 1280)
        browser.get(f"{live.url}{ADMIN}/logs/sign-ins")
        browser.find_element(By.CSS_SELECTOR, "table.stack tbody tr:first-child a").click()
        heading(browser)
        edges = browser.execute_script(
            """const table = document.querySelector('table.stack'), pane = document.querySelector('aside.detail');
               return [table.getBoundingClientRect().right, pane.getBoundingClientRect().left];"""
        )
        assert edges[0] <= edges[1], edges
    finally:
        browser.add_cookie({"name": i18n.COOKIE, "value": "en"})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
