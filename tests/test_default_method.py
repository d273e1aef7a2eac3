"""The default sign-in method: chosen in My Security Info or through Graph's signInPreferences (beta), offered
first at the next MFA step."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from idp import clock
from idp.extensions import db
from idp.methods.oath import service as oath

from .browser import fill_and_submit, heading, press, screenshot
from .support import PASSWORD, Agent
from .test_oath_api_and_signin import current_code, enable
from .test_oidc_flow import Rp
from .test_phone import dev, with_mobile  # noqa: F401  (the dev fixture: texts go to the development phone)

PREFS = "/users/{}/authentication/signInPreferences"


def with_oath_and_phone(seed) -> str:
    """Alice registers an authenticator app and a mobile phone: the app (order 30) comes before the text."""
    enable(seed.tenant.id, "SoftwareOath")
    with_mobile(seed, "Sms")
    enrolment = oath.start_software_enrolment(seed.alice)
    assert oath.activate(enrolment.method, current_code(enrolment.secret), confirm_far=False).ok
    db.session.commit()
    return enrolment.secret


def mfa_step_after_password(live, seed) -> str:
    agent = Agent(live.url)
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    return agent.page.url.rsplit("/", 1)[-1]


def test_graph_sets_the_default_and_the_mfa_step_follows(dev, live, seed, graph_as):  # noqa: F811
    with_oath_and_phone(seed)
    assert mfa_step_after_password(live, seed) == "oath"
    graph = graph_as("paa")
    path = PREFS.format("alice@contoso.test")
    read = graph("GET", path, version="beta")
    assert read.status_code == 200, read.text
    assert read.json()["userPreferredMethodForSecondaryAuthentication"] is None
    assert read.json()["isSystemPreferredAuthenticationMethodEnabled"] is False
    changed = graph("PATCH", path, {"userPreferredMethodForSecondaryAuthentication": "sms"}, version="beta")
    assert changed.status_code == 200 and changed.json()["userPreferredMethodForSecondaryAuthentication"] == "sms"
    assert graph("GET", path, version="beta").json()["userPreferredMethodForSecondaryAuthentication"] == "sms"
    assert mfa_step_after_password(live, seed) == "sms"


@pytest.mark.parametrize(
    "body",
    [
        {"userPreferredMethodForSecondaryAuthentication": "push"},  # not registered
        {"userPreferredMethodForSecondaryAuthentication": "fido2"},  # not a Graph value
        {"userPreferredMethodForSecondaryAuthentication": 3},
        {"isSystemPreferredAuthenticationMethodEnabled": True},
    ],
)
def test_graph_refuses_a_default_the_user_cannot_use(dev, live, seed, graph_as, body):  # noqa: F811
    with_oath_and_phone(seed)
    refused = graph_as("paa")("PATCH", PREFS.format("alice@contoso.test"), body, version="beta")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "BadRequest", refused.text
    db.session.expire_all()
    assert db.session.get(type(seed.alice), seed.alice.id).preferred_mfa_method is None


def test_signin_preferences_are_beta_only_and_need_a_role(dev, live, seed, graph_as):  # noqa: F811
    with_oath_and_phone(seed)
    path = PREFS.format("alice@contoso.test")
    assert graph_as("paa")("GET", path).status_code == 400  # v1.0 has no such segment
    body = {"userPreferredMethodForSecondaryAuthentication": "sms"}
    assert graph_as("bob")("PATCH", path, body, version="beta").status_code == 403


def test_a_default_that_is_switched_off_is_not_offered_first(dev, live, seed, graph_as):  # noqa: F811
    from idp.policy import service as policy

    with_oath_and_phone(seed)
    seed.alice.preferred_mfa_method = "sms"
    config = policy.get(seed.tenant.id, "Sms")
    config.state = "disabled"
    policy.save(seed.tenant.id, config)
    db.session.commit()
    assert mfa_step_after_password(live, seed) == "oath"
    read = graph_as("paa")("GET", PREFS.format("alice@contoso.test"), version="beta")
    assert read.json()["userPreferredMethodForSecondaryAuthentication"] is None


@pytest.mark.browser
def test_change_the_default_in_my_security_info_then_sign_in(dev, live, seed, browser):  # noqa: F811
    secret = with_oath_and_phone(seed)
    browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "alice@contoso.test")
    fill_and_submit(browser, "password", PASSWORD)
    assert browser.current_url.endswith("/login/method/oath")  # the usual order: the app first
    clock.advance(__import__("datetime").timedelta(seconds=30))
    fill_and_submit(browser, "otc", current_code(secret))
    press(browser, "button[value=no]")
    assert heading(browser) == "Security info"
    choice = Select(browser.find_element(By.ID, "default-method"))
    assert [o.get_attribute("value") for o in choice.options] == ["", "oath", "sms"]
    choice.select_by_value("sms")
    press(browser, "change-default-method", By.ID)
    assert "Default sign-in method changed." in browser.find_element(By.ID, "flash-ok").text
    assert Select(browser.find_element(By.ID, "default-method")).first_selected_option.get_attribute("value") == "sms"
    screenshot(browser, "securityinfo-default-method")
    browser.delete_all_cookies()
    browser.get(f"{live.url}/contoso.test/mysecurityinfo/")
    fill_and_submit(browser, "username", "alice@contoso.test")
    fill_and_submit(browser, "password", PASSWORD)
    assert browser.current_url.endswith("/login/method/sms")
    assert browser.find_element(By.ID, "otc")
