"""A B2B guest redeems an invitation in headless Chromium with the code read from a real SMTP server."""

import pytest
from selenium.webdriver.common.by import By

from .browser import new_page, press, screenshot
from .smtp import wait_for
from .test_guests import GUEST, invite

pytestmark = pytest.mark.browser


def test_guest_redeems_an_invitation_with_an_emailed_code(app, live, seed, smtp, browser):
    _, response = invite(live, seed, send=True)
    assert wait_for(lambda: smtp.to(GUEST))
    link = response.json()["inviteRedeemUrl"].replace("http://localhost", live.url)
    assert link in smtp.to(GUEST)[0].get_payload(decode=True).decode().replace("http://localhost", live.url)
    browser.get(link)
    assert "We'll send a code to gina@partner.example" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "guest-redeem")
    press(browser, "button[value=send]")
    assert wait_for(lambda: len(smtp.to(GUEST)) == 2)
    field = browser.find_element(By.ID, "otc")
    assert field.get_attribute("autocomplete") == "one-time-code"
    field.send_keys(smtp.last_code(GUEST))
    screenshot(browser, "guest-code")
    with new_page(browser):
        browser.execute_script("arguments[0].form.requestSubmit()", field)
    assert (
        wait_for(lambda: browser.current_url.startswith("https://apps.contoso.example/welcome"), 15)
        or "apps.contoso.example" in browser.current_url
    )
