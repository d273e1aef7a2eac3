"""The device authorization grant: MSAL's device flow, azure-identity's DeviceCodeCredential, the polling
errors, exactly once, and the verification page (with any sign-in method)."""

import threading
from datetime import timedelta

import msal
import pytest
import requests
from azure.identity import DeviceCodeCredential

from idp import clock

from .support import Agent, password_sign_in
from .test_msal_https import https  # noqa: F401  (fixture)

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def fast_polling(app):
    app.config["IDP_DEVICE_CODE_INTERVAL"] = 1


def approve(https, verification_uri, user_code, decision="continue", upn="alice@contoso.test"):  # noqa: F811
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(verification_uri)
    agent.submit("devicelogin", user_code=user_code.lower())  # codes are case-insensitive
    password_sign_in(agent, upn)
    assert "Are you trying to sign in" in agent.text(), agent.text()[:500]
    agent.submit("devicelogin/confirm", decision=decision)
    return agent


def poll(https, client_id, device_code):  # noqa: F811
    return requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/token",
        verify=https.ca,
        data={"grant_type": GRANT, "client_id": client_id, "device_code": device_code},
    ).json()


def test_msal_device_flow(https, seed, fast_polling):  # noqa: F811
    app = msal.PublicClientApplication(
        seed.public_client_id, authority=f"{https.url}/contoso.test", instance_discovery=False
    )
    flow = app.initiate_device_flow(scopes=["User.Read"])
    assert flow["user_code"] and flow["verification_uri"].endswith("/devicelogin"), flow
    assert flow["user_code"] in flow["message"] and flow["interval"] == 1
    worker = threading.Thread(target=approve, args=(https, flow["verification_uri"], flow["user_code"]))
    worker.start()
    result = app.acquire_token_by_device_flow(flow)
    worker.join()
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "alice@contoso.test"
    assert [a["username"] for a in app.get_accounts()] == ["alice@contoso.test"]
    again = poll(https, seed.public_client_id, flow["device_code"])  # exactly once
    assert again["error"] == "invalid_grant" and again["error_codes"] == [54005]


def test_azure_identity_device_code_credential(https, seed, fast_polling):  # noqa: F811
    def prompt(verification_uri, user_code, expires_on):
        approve(https, verification_uri, user_code)

    credential = DeviceCodeCredential(
        seed.public_client_id,
        tenant_id="contoso.test",
        authority=https.url,
        prompt_callback=prompt,
        disable_instance_discovery=True,
    )
    assert credential.get_token("User.Read").token.count(".") == 2


def test_polling_errors(https, seed, fast_polling):  # noqa: F811
    start = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/devicecode",
        verify=https.ca,
        data={"client_id": seed.public_client_id, "scope": "openid User.Read"},
    ).json()
    first = poll(https, seed.public_client_id, start["device_code"])
    assert first["error"] == "authorization_pending" and first["error_codes"] == [70016]
    assert poll(https, seed.public_client_id, start["device_code"])["error"] == "slow_down"
    clock.advance(timedelta(seconds=2))
    assert poll(https, seed.public_client_id, start["device_code"])["error"] == "authorization_pending"
    assert poll(https, seed.client_id, start["device_code"])["error"] in ("invalid_grant", "invalid_client")
    declined = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/devicecode",
        verify=https.ca,
        data={"client_id": seed.public_client_id, "scope": "User.Read"},
    ).json()
    done = approve(https, declined["verification_uri"], declined["user_code"], decision="cancel")
    assert "cancelled" in done.text()
    assert poll(https, seed.public_client_id, declined["device_code"])["error"] == "authorization_declined"
    clock.advance(timedelta(minutes=16))
    expired = poll(https, seed.public_client_id, start["device_code"])
    assert expired["error"] == "expired_token" and expired["error_codes"] == [70019]
    bad = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/devicecode",
        verify=https.ca,
        data={"client_id": seed.public_client_id, "scope": "Directory.ReadWrite.All"},
    ).json()
    assert bad["error_codes"] == [65001] and bad["correlation_id"]
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(start["verification_uri"])
    agent.submit("devicelogin", user_code="BCDFGHJKL")
    assert agent.page.status_code == 400 and "not valid" in agent.text()


@pytest.mark.browser
def test_verification_page_in_chromium(live, seed, browser, fast_polling):
    from selenium.webdriver.common.by import By

    from .browser import press
    from .support import PASSWORD

    start = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/devicecode",
        data={"client_id": seed.public_client_id, "scope": "openid User.Read"},
    ).json()
    browser.get(start["verification_uri"])
    code = browser.find_element(By.ID, "user_code")
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=user_code]").text
    code.send_keys(start["user_code"])
    press(browser, "button.primary")
    browser.find_element(By.ID, "username").send_keys("alice@contoso.test")
    press(browser, "button.primary")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    press(browser, "button.primary")
    press(browser, "button[value=no]")
    assert "Are you trying to sign in to SPA?" in browser.find_element(By.TAG_NAME, "h1").text
    press(browser, "button[value=continue]")
    assert "You are signed in to SPA" in browser.find_element(By.TAG_NAME, "h1").text
    token = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": GRANT, "client_id": seed.public_client_id, "device_code": start["device_code"]},
    ).json()
    assert token["access_token"] and token["id_token"], token
