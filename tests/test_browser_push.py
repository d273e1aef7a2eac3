"""A person pairs the simulated authenticator in My Security Info and signs in with a notification, picking the
number the page shows (headless Chromium, one browser for both: the development pages are same-origin)."""

import pytest
from selenium.webdriver.common.by import By

from .browser import fill_and_submit, heading, press, screenshot
from .support import PASSWORD, enable_method

pytestmark = pytest.mark.browser


def test_pair_and_approve_a_notification_with_number_matching(app, live, seed, browser):
    app.config["IDP_DEV_MODE"] = True
    enable_method(seed.tenant.id, "MicrosoftAuthenticator")
    browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "alice@contoso.test")
    fill_and_submit(browser, "password", PASSWORD)
    press(browser, "button[value=no]")
    press(browser, "+ Add Microsoft Authenticator (notifications)", By.LINK_TEXT)
    assert browser.find_element(By.CSS_SELECTOR, ".qr svg")
    link = browser.find_element(By.ID, "pairing-link").text
    securityinfo = browser.current_window_handle
    browser.switch_to.new_window("tab")  # the "phone": the simulated authenticator scans the code
    browser.get(f"{live.url}/_dev/authenticator/")
    fill_and_submit(browser, "link", link)
    assert "Paired for alice@contoso.test" in browser.page_source
    browser.close()
    browser.switch_to.window(securityinfo)
    press(browser, "button.primary")  # Next
    assert "Microsoft Authenticator" in browser.find_element(By.CSS_SELECTOR, "tr.method-authenticator").text

    browser.delete_all_cookies()
    browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "alice@contoso.test")
    fill_and_submit(browser, "password", PASSWORD)
    assert heading(browser) == "Approve sign-in request"
    number = browser.find_element(By.ID, "push-number").text
    screenshot(browser, "signin-push-number")
    sign_in_page = browser.current_url
    browser.get(f"{live.url}/_dev/authenticator/")
    assert "Are you trying to sign in?" in browser.page_source
    screenshot(browser, "dev-authenticator-request")
    press(browser, f"//button[@class='number-choice' and text()='{number}']", By.XPATH)
    assert "No pending requests" in browser.page_source
    browser.get(sign_in_page)  # back on the sign-in page: the approval is waiting, no new notification
    assert browser.find_element(By.ID, "push-number").text == number
    press(browser, "button.primary")
    press(browser, "button[value=no]")
    assert "/mysecurityinfo/" in browser.current_url
