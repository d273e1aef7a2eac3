"""Phones: Graph phoneMethods, registration in My Security Info, and the text-message and voice-call steps,
driven end to end through the pages and the development phone (the telephony simulator)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from idp import clock, i18n
from idp.audit.models import SignInLog
from idp.extensions import db
from idp.methods.phone import service
from idp.mfa import blocks, settings as mfa_settings

from .support import PASSWORD, Agent, enable_method, password_sign_in
from .test_oidc_flow import Rp

PHONES = "/users/{}/authentication/phoneMethods"
MOBILE_ID = "3179e48a-750b-4051-897c-87b9720928f7"
ALICE_MOBILE = "+1 2065550123"


@pytest.fixture
def dev(app):
    app.config["IDP_DEV_MODE"] = True
    return app


def with_mobile(seed, *method_ids):
    for method_id in method_ids:
        enable_method(seed.tenant.id, method_id)
    service.add(seed.alice, "mobile", ALICE_MOBILE)
    db.session.commit()


def at_second_factor(live, seed):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    return rp, agent


def texted_code(live) -> str:
    """The latest code on the development phone page: six digits standing alone, in any language."""
    phone = Agent(live.url)
    phone.go("/_dev/phone/")
    return re.search(r"(?<![\d+])(\d{6})(?!\d)", phone.text()).group(1)


def last_failure():
    db.session.expire_all()
    return db.session.scalars(
        select(SignInLog).where(SignInLog.result == "failure").order_by(SignInLog.created_at.desc())
    ).first()


# --- Graph -------------------------------------------------------------------------------------------------


def test_phone_methods_in_graph(graph_as, staff, seed):
    paa, bob = graph_as("paa"), graph_as("bob")
    base = PHONES.format("bob@contoso.test")
    assert paa("POST", base, {"phoneNumber": "+1 4255550100", "phoneType": "alternateMobile"}).status_code == 400
    created = paa("POST", base, {"phoneNumber": "+1 206 555 0123", "phoneType": "mobile"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["@odata.type"] == "#microsoft.graph.phoneAuthenticationMethod"
    assert (body["id"], body["phoneNumber"], body["phoneType"]) == (MOBILE_ID, "+1 2065550123", "mobile")
    assert body["smsSignInState"] == "notAllowedByPolicy"
    assert paa("POST", base, {"phoneNumber": "+1 2065550199", "phoneType": "mobile"}).status_code == 409
    office = paa("POST", base, {"phoneNumber": "+1 4255550100x123", "phoneType": "office"})
    assert office.status_code == 201 and office.json()["phoneNumber"] == "+1 4255550100x123"
    assert office.json()["smsSignInState"] == "notSupported"
    listed = bob("GET", base).json()["value"]  # users read their own
    assert [p["phoneType"] for p in listed] == ["mobile", "office"]
    assert paa("PATCH", f"{base}/{MOBILE_ID}", {"phoneNumber": "+44 7911 123456"}).status_code == 204
    assert paa("GET", f"{base}/{MOBILE_ID}").json()["phoneNumber"] == "+44 7911123456"
    assert paa("PATCH", f"{base}/{MOBILE_ID}", {"phoneType": "office"}).status_code == 400
    enable_method(seed.tenant.id, "Sms")
    assert paa("POST", f"{base}/{MOBILE_ID}/enableSmsSignIn").status_code == 204
    assert paa("GET", f"{base}/{MOBILE_ID}").json()["smsSignInState"] == "ready"
    assert graph_as("gr")("DELETE", f"{base}/{MOBILE_ID}").status_code == 403
    assert paa("DELETE", f"{base}/{MOBILE_ID}").status_code == 204
    assert paa("GET", f"{base}/{MOBILE_ID}").status_code == 404


@pytest.mark.parametrize(
    "number,fragment",
    [
        ("2065550123", "must start with +"),
        ("+1 555", "not a valid"),
        ("+1 2065550123x9", "Only an office"),
        ("+phone", "not a phone number"),
        (None, "required"),
    ],
)
def test_graph_refuses_bad_numbers(graph_as, staff, number, fragment):
    refused = graph_as("paa")("POST", PHONES.format("bob@contoso.test"), {"phoneNumber": number, "phoneType": "mobile"})
    assert refused.status_code == 400 and fragment in refused.json()["error"]["message"], refused.text


# --- text message ----------------------------------------------------------------------------------------


def test_sms_sign_in_end_to_end(dev, live, seed):
    with_mobile(seed, "Sms")
    rp, agent = at_second_factor(live, seed)
    assert agent.page.url.endswith("/login/method/sms"), agent.page.url
    assert "+1 XXXXXXXX23" in agent.text() and 'autocomplete="one-time-code"' in agent.page.text
    agent.submit("/login/method/sms", otc="000000" if texted_code(live) != "000000" else "111111")
    assert agent.page.status_code == 400 and "not correct" in agent.text()
    assert last_failure().methods == ["password", "sms"]
    agent.submit("/login/method/sms", otc=texted_code(live))
    agent.submit("/login/kmsi", stay="no")
    claims = rp.id_claims(rp.redeem(agent))
    assert {"pwd", "sms", "mfa"} <= set(claims["amr"]) and claims["acr"] == "mfa"


@pytest.mark.parametrize("preferred, page, expected", [("ja-JP", "en", "ja"), (None, "ja", "ja"), (None, "en", "en")])
def test_the_text_message_is_in_the_users_language(dev, live, seed, preferred, page, expected):
    seed.alice.preferred_language = preferred
    db.session.commit()
    with_mobile(seed, "Sms")
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.http.cookies.set(i18n.COOKIE, page)
    agent.go(rp.authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    text = dev_phone(live).text()
    japanese = "Contoso の認証用の確認コード: " in text
    assert japanese == (expected == "ja") and ("Use verification code" in text) == (expected == "en")
    agent.submit("/login/method/sms", otc=texted_code(live))
    agent.submit("/login/kmsi", stay="no")
    assert "sms" in rp.id_claims(rp.redeem(agent))["amr"]


def test_sms_code_lifetime_and_tries(dev, live, seed):
    with_mobile(seed, "Sms")
    _, agent = at_second_factor(live, seed)
    code = texted_code(live)
    clock.advance(timedelta(seconds=181))
    agent.submit("/login/method/sms", otc=code)
    assert "expired" in agent.text()
    agent.submit("/login/method/sms", action="resend")
    assert "new code" in agent.text()
    fresh = texted_code(live)
    wrong = f"{(int(fresh) + 1) % 10**6:06d}"
    for _ in range(3):
        agent.submit("/login/method/sms", otc=wrong)
    assert "Too many wrong codes" in agent.text()
    agent.submit("/login/method/sms", otc=fresh)  # the third wrong code voided it
    assert agent.page.status_code == 400 and "new code first" in agent.text()


def test_text_message_switch_and_policy_hide_the_step(dev, live, seed):
    with_mobile(seed, "Sms")
    mfa_settings.update(seed.tenant.id, "verificationMethods", {"textMessage": False})
    db.session.commit()
    _, agent = at_second_factor(live, seed)
    assert "/login/kmsi" in agent.page.url  # the only MFA method is switched off


def test_register_a_mobile_phone_in_my_security_info(dev, live, seed):
    enable_method(seed.tenant.id, "Sms")
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test")
    assert "Add a phone" in agent.text()
    agent.go("/contoso.test/mysecurityinfo/phone")
    agent.submit("/mysecurityinfo/phone", phone_type="mobile", number="+1 555")
    assert agent.page.status_code == 400 and "not a valid phone number" in agent.text()
    agent.submit("/mysecurityinfo/phone", phone_type="mobile", number=ALICE_MOBILE)
    assert "We texted a 6-digit code" in agent.text()
    agent.submit("/mysecurityinfo/phone/verify", code=texted_code(live))
    assert "+1 2065550123" in agent.text() and "Phone" in agent.text()
    assert service.phones_of(seed.alice.id)["mobile"].number == "+12065550123"


# --- voice call -----------------------------------------------------------------------------------------


def dev_phone(live) -> Agent:
    phone = Agent(live.url)
    phone.go("/_dev/phone/")
    return phone


def test_voice_call_answered_with_pound(dev, live, seed):
    with_mobile(seed, "Voice")
    rp, agent = at_second_factor(live, seed)
    assert agent.page.url.endswith("/login/method/voice"), agent.page.url
    agent.submit("/login/method/voice")
    assert agent.page.status_code == 400 and "haven't received" in agent.text()
    phone = dev_phone(live)
    assert "+12065550123" in phone.text() and "ringing" in phone.text()
    phone.submit("/answer")
    assert "Please press pound to finish your verification" in phone.text()
    phone.submit("/keys", keys="#")
    assert "successfully verified" in phone.text()
    agent.submit("/login/method/voice")
    agent.submit("/login/kmsi", stay="no")
    claims = rp.id_claims(rp.redeem(agent))
    assert {"pwd", "tel", "mfa"} <= set(claims["amr"])


def test_voice_call_not_answered(dev, live, seed):
    with_mobile(seed, "Voice")
    _, agent = at_second_factor(live, seed)
    dev_phone(live).submit("/no-answer")
    agent.submit("/login/method/voice")
    assert "didn't get an answer" in agent.text()
    assert last_failure().failure_reason == "voice call: no-answer"


def test_fraud_code_with_auto_block_needs_1(dev, live, seed):
    with_mobile(seed, "Voice")
    _, agent = at_second_factor(live, seed)
    phone = dev_phone(live)
    phone.submit("/answer")
    assert "press 0 and then pound to report it" in phone.text()
    phone.submit("/keys", keys="0#")
    assert "press 1" in phone.text()
    assert blocks.active_block(seed.alice) is None
    phone.submit("/keys", keys="1")
    assert "Your report has been submitted" in phone.text()
    db.session.expire_all()
    assert blocks.active_block(seed.alice) is not None
    assert last_failure().failure_reason == "MFA denied; fraud code entered"
    agent.submit("/login/method/voice")
    assert agent.page.status_code == 400  # that sign-in is over


def test_fraud_code_without_auto_block_reports_at_once(dev, live, seed):
    with_mobile(seed, "Voice")
    mfa_settings.update(seed.tenant.id, "fraudAlert", {"blockUserWhenFraudReported": False, "fraudCode": "42"})
    db.session.commit()
    at_second_factor(live, seed)
    phone = dev_phone(live)
    phone.submit("/answer")
    phone.submit("/keys", keys="42#")
    assert "Your report has been submitted" in phone.text()
    db.session.expire_all()
    assert blocks.active_block(seed.alice) is None
    assert last_failure().failure_reason == "MFA denied; fraud code entered"


# --- the existing guards -------------------------------------------------------------------------------------


def test_a_block_stops_text_and_call(dev, live, seed):
    with_mobile(seed, "Sms", "Voice")
    blocks.block(seed.alice, "Lost phone", "admin@contoso.test")
    db.session.commit()
    _, agent = at_second_factor(live, seed)
    assert agent.page.status_code == 403 and blocks.BLOCKED in agent.text()
    agent.go("/contoso.test/login/method/voice")
    assert agent.page.status_code == 403 and blocks.BLOCKED in agent.text()
    agent.submit("/login/method/voice")
    assert blocks.BLOCKED in agent.text()
    assert "No text messages or calls yet" in dev_phone(live).text()  # nothing was sent to a blocked user


def test_wrong_text_codes_count_towards_lockout(dev, live, seed):
    with_mobile(seed, "Sms")
    mfa_settings.update(seed.tenant.id, "accountLockout", {"mfaDenialsBeforeLockout": 2})
    db.session.commit()
    _, agent = at_second_factor(live, seed)
    wrong = f"{(int(texted_code(live)) + 1) % 10**6:06d}"
    agent.submit("/login/method/sms", otc=wrong)
    agent.submit("/login/method/sms", otc=wrong)
    agent.submit("/login/method/sms", otc=texted_code(live))
    from idp.mfa import lockout

    assert lockout.LOCKED in agent.text()


def test_remembered_mfa_and_trusted_locations_skip_the_phone(dev, live, seed):
    from idp.mfa import remember
    from idp.mfa.models import NamedLocation

    with_mobile(seed, "Sms")
    mfa_settings.update(seed.tenant.id, "rememberMfa", {"isEnabled": True, "days": 7})
    db.session.commit()
    _, agent = at_second_factor(live, seed)
    agent.submit("/login/method/sms", otc=texted_code(live), remember_mfa="on")
    agent.submit("/login/kmsi", stay="no")
    remembered = Agent(live.url)  # a new browser session on the same device: only the remember cookie carries over
    name = remember.COOKIE_PREFIX + seed.tenant.id  # plain HTTP: no __Host- prefix
    remembered.http.cookies.set(name, agent.http.cookies.get(name))
    rp = Rp(live, seed)
    remembered.go(rp.authorize_url())
    remembered.submit("/login", username="alice@contoso.test")
    remembered.submit("/login/method/password", password=PASSWORD)
    assert "/login/kmsi" in remembered.page.url  # no text message this time
    mfa_settings.update(seed.tenant.id, "rememberMfa", {"isEnabled": False})
    db.session.add(
        NamedLocation(tenant_id=seed.tenant.id, display_name="Here", ip_ranges=["127.0.0.0/8"], is_trusted=True)
    )
    db.session.commit()
    _, trusted = at_second_factor(live, seed)
    assert "/login/kmsi" in trusted.page.url


def test_strength_with_sms_and_the_sign_in_log(dev, live, seed):
    from idp.policy import strengths

    with_mobile(seed, "Sms")
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url(acr_values=strengths.MFA))
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/method/sms", otc=texted_code(live))
    agent.submit("/login/kmsi", stay="no")
    assert rp.id_claims(rp.redeem(agent))["acr"] == strengths.MFA
    db.session.expire_all()
    success = db.session.scalars(select(SignInLog).where(SignInLog.result == "success")).all()[-1]
    assert success.methods == ["password", "sms"]


def test_phone_methods_with_msgraph_sdk(live, seed):
    """The SDK's typed models round-trip: create, list, update, enable SMS sign-in, a Graph error, delete."""
    from msgraph.generated.models.authentication_method_sign_in_state import AuthenticationMethodSignInState
    from msgraph.generated.models.authentication_phone_type import AuthenticationPhoneType
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.phone_authentication_method import PhoneAuthenticationMethod

    from . import graph_sdk
    from .support import app_client, app_token

    enable_method(seed.tenant.id, "Sms")
    token = app_token(live.url, "contoso.test", *app_client(seed.tenant, ["UserAuthenticationMethod.ReadWrite.All"]))

    async def scenario():
        phones = graph_sdk.client(live.url, token).users.by_user_id("alice@contoso.test").authentication.phone_methods
        created = await phones.post(
            PhoneAuthenticationMethod(phone_number="+1 2065550123", phone_type=AuthenticationPhoneType.Mobile)
        )
        assert (created.id, created.phone_type) == (MOBILE_ID, AuthenticationPhoneType.Mobile)
        assert created.sms_sign_in_state == AuthenticationMethodSignInState.NotEnabled
        try:
            await phones.post(
                PhoneAuthenticationMethod(phone_number="+1 555", phone_type=AuthenticationPhoneType.Office)
            )
            raise AssertionError("an invalid number was accepted")
        except ODataError as error:
            assert error.response_status_code == 400 and "not a valid phone number" in error.error.message
        phone = phones.by_phone_authentication_method_id(MOBILE_ID)
        await phone.patch(PhoneAuthenticationMethod(phone_number="+1 2065550199"))
        await phone.enable_sms_sign_in.post()
        got = await phone.get()
        assert got.phone_number == "+1 2065550199" and got.sms_sign_in_state == AuthenticationMethodSignInState.Ready
        assert [p.phone_type for p in (await phones.get()).value] == [AuthenticationPhoneType.Mobile]
        await phone.delete()
        assert (await phones.get()).value == []

    graph_sdk.run(scenario)
