"""The README's first tour, walked as a newcomer on a phone (390 px) in Japanese, in headless Chromium: sign in,
add an authenticator app, create a TAP as the demo admin, register a passkey with the virtual authenticator,
invite a guest, read the sign-in log and the dashboard. Each step's screen is saved to
test-artifacts/walkthrough/ and checked for English left on it."""

import re

import pytest
from selenium.webdriver.common.by import By

from idp import clock, i18n
from idp.cli import seed_demo
from idp.directory import service as directory
from idp.methods.oath import totp

from .browser import ARTIFACTS, fill_and_submit, heading, press
from .test_browser_passkey import virtual_authenticator

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "walkthrough"
#: words that stay English on a Japanese page: names, addresses, codes
ALLOWED = {"IdP", "Contoso", "English", "Microsoft", "Authenticator", "FIDO2", "TAP", "MFA", "SMS", "IP", "UTC", "CSV"}
ALLOWED |= {
    "JSON",
    "QR",
    "URL",
    "OATH",
    "AAGUID",
    "ID",
    "Admin",
    "Example",
    "Alice",
    "Gail",
    "Laptop",
    "PNG",
    "SVG",
    "SHA",
    "TOTP",
    "PIN",
    "Demo",
    "app",
}  # the demo app is named "Demo app"


def _shoot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": max(844, min(height, 4000)), "deviceScaleFactor": 1, "mobile": True},
    )
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )


def _english_words(driver) -> list[str]:
    """Runs of Latin words in the page's visible text, less names, addresses and the allowed product words."""
    text = driver.execute_script(
        """const main = document.querySelector('main').cloneNode(true);
           main.querySelectorAll('[translate=no], code, kbd, svg, [lang=en]').forEach((e) => e.remove());
           document.body.appendChild(main);  // innerText needs the copy laid out
           const text = main.innerText;
           main.remove();
           return text;"""
    )
    text = re.sub(r"\S+@\S+|https?://\S+|\b[0-9a-f-]{36}\b|\b[A-Z2-7 ]{16,}\b", " ", text)
    words = [w.strip("-'’") for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", text)]
    words = [w for w in words if w not in ALLOWED]
    return words


def _japanese_step(driver, name: str) -> None:
    _shoot(driver, name)
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    left = _english_words(driver)
    assert not left, (name, left)


def _sign_in(driver, base, path, upn, secret_field, secret):
    driver.get(f"{base}{path}")
    fill_and_submit(driver, "username", upn)
    fill_and_submit(driver, secret_field, secret)
    press(driver, "button[value=no]")


def test_the_readme_tour_on_a_phone_in_japanese(app, live, browser):
    base = live.url.replace("127.0.0.1", "localhost")  # WebAuthn needs localhost, never an IP
    app.config["IDP_DEV_MODE"] = True
    seed_demo(live.url)
    browser.get(f"{base}/contoso.test/login/")
    browser.add_cookie({"name": i18n.COOKIE, "value": "ja"})
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        # 1-2. Alice signs in to My Security Info and adds an authenticator app
        browser.get(f"{base}/contoso.test/mysecurityinfo/")
        _japanese_step(browser, "01-signin-username")
        fill_and_submit(browser, "username", "alice@contoso.test")
        _japanese_step(browser, "02-signin-password")
        fill_and_submit(browser, "password", "Contoso-Alice-1")
        _japanese_step(browser, "03-signin-kmsi")
        press(browser, "button[value=no]")
        _japanese_step(browser, "04-securityinfo")
        press(browser, "a[href$='/mysecurityinfo/oath/app']")
        secret = browser.find_element(By.ID, "oath-secret").text.replace(" ", "")
        _japanese_step(browser, "05-oath-enrol")
        fill_and_submit(browser, "code", "000000" if totp.code_at(secret, 0) != "000000" else "111111")
        _japanese_step(browser, "06-oath-wrong-code")
        fill_and_submit(browser, "code", totp.code_at(secret, totp.step_of(clock.timestamp(), 30)))
        assert browser.find_element(By.CSS_SELECTOR, "tr.method-software-oath")
        _japanese_step(browser, "07-oath-added")
        cut = browser.execute_script(
            """const table = document.querySelector('table.stack');
               return table.scrollWidth > table.clientWidth + 1
                      || table.getBoundingClientRect().right > document.documentElement.clientWidth;"""
        )
        assert not cut  # the methods table stacks on a phone: no Actions column cut off at the edge

        # 3. the admin creates a TAP for Alice (a refused one first: the reason is in Japanese)
        browser.delete_all_cookies()
        browser.get(f"{base}/contoso.test/login/")
        browser.add_cookie({"name": i18n.COOKIE, "value": "ja"})
        _sign_in(browser, base, "/contoso.test/admin/", "admin@contoso.test", "password", "Contoso-Admin-1")
        _japanese_step(browser, "08-console-dashboard")
        sizes = browser.execute_script(
            """return [...document.querySelectorAll('svg.chart')].filter((svg) => svg.getBoundingClientRect().width)
                 .map((svg) => [svg.getAttribute('class'), 15 * svg.getScreenCTM().a]);"""
        )
        assert sizes and all(kind != "chart wide" for kind, _ in sizes), sizes  # the phone's drawings
        assert all(size >= 13 for kind, size in sizes if kind == "chart narrow"), sizes  # labels readable
        browser.get(f"{base}/contoso.test/admin/users")
        _japanese_step(browser, "09-console-users")
        share = browser.execute_script(
            """const form = document.querySelector('form[role=search]');
               return form.querySelector('input').getBoundingClientRect().width / form.getBoundingClientRect().width;"""
        )
        assert share > 0.6, share  # the search field takes the line, beside its button
        alice = directory.find_user(directory.find_tenant("contoso.test"), "alice@contoso.test")
        press(browser, f"a[href$='/admin/users/{alice.id}']")
        _japanese_step(browser, "10-console-user")
        # the browser itself keeps the lifetime within its range; a start in the past only the server refuses
        browser.execute_script("document.getElementById('tap-start').value = '2001-01-01T09:00'")
        fill_and_submit(browser, "tap-lifetime", "60")
        _japanese_step(browser, "11-tap-refused")
        assert "開始が過去の日時になっています。" in browser.find_element(By.TAG_NAME, "main").text
        browser.back()
        browser.execute_script("document.getElementById('tap-start').value = ''")
        fill_and_submit(browser, "tap-lifetime", "60")
        code = browser.find_element(By.ID, "tap-code").text
        _japanese_step(browser, "12-tap-created")

        # 4. Alice signs in with the pass and registers a passkey (the virtual authenticator answers)
        virtual_authenticator(browser)
        browser.delete_all_cookies()
        browser.get(f"{base}/contoso.test/login/")
        browser.add_cookie({"name": i18n.COOKIE, "value": "ja"})
        browser.get(f"{base}/contoso.test/mysecurityinfo/")
        fill_and_submit(browser, "username", "alice@contoso.test")
        _japanese_step(browser, "13-signin-tap")
        if browser.find_elements(By.ID, "tap"):
            fill_and_submit(browser, "tap", code.replace(" ", ""))
        press(browser, "button[value=no]")
        press(browser, "a[href$='/mysecurityinfo/passkey']")
        browser.find_element(By.ID, "display_name").send_keys("Laptop")
        _japanese_step(browser, "14-passkey-add")
        press(browser, "#passkey-create")
        assert browser.find_element(By.CSS_SELECTOR, "tr.method-passkey")
        _japanese_step(browser, "15-passkey-added")

        # 5-6. the admin invites a guest, then reads the sign-in log (the passkey would sign Alice in again)
        browser.remove_all_credentials()
        browser.remove_virtual_authenticator()
        browser.delete_all_cookies()
        browser.get(f"{base}/contoso.test/login/")
        browser.add_cookie({"name": i18n.COOKIE, "value": "ja"})
        _sign_in(browser, base, "/contoso.test/admin/users/invite", "admin@contoso.test", "password", "Contoso-Admin-1")
        _japanese_step(browser, "16-invite")
        browser.find_element(By.ID, "invite-name").send_keys("Gail")
        fill_and_submit(browser, "invite-address", "alice@contoso.test")
        _japanese_step(browser, "17-invite-refused")
        fill_and_submit(browser, "invite-address", "gail@fabrikam.example")
        _japanese_step(browser, "18-invited")
        browser.get(f"{base}/contoso.test/admin/logs/sign-ins")
        _japanese_step(browser, "19-signin-log")
        press(browser, "table.stack tbody tr:first-child a")
        _japanese_step(browser, "20-signin-detail")
        browser.get(f"{base}/contoso.test/admin/")
        _japanese_step(browser, "21-dashboard-after")
        assert heading(browser)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
