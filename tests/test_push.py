"""Authenticator notifications with number matching: pairing by QR code in My Security Info, approve / deny /
report on the simulated authenticator, the device protocol over HTTP as a third-party app would speak it, the
CLI, and the guards (lockout, blocks, strengths)."""

import re
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select

from idp import clock
from idp.audit.models import SignInLog
from idp.extensions import db
from idp.methods.push import protocol, service
from idp.methods.push.simulator import answer, devices_for, requests_for, scan
from idp.mfa import blocks, lockout, settings as mfa_settings
from idp.policy import strengths

from .support import PASSWORD, Agent, enable_method, forms, password_sign_in
from .test_oidc_flow import Rp


@pytest.fixture
def dev(app, seed):
    app.config["IDP_DEV_MODE"] = True
    enable_method(seed.tenant.id, "MicrosoftAuthenticator")
    return app


def pairing_link(seed) -> str:
    _, code = service.start_pairing(seed.alice)
    db.session.commit()
    return "idp-authenticator://pair?" + urlencode({"server": "http://x", "tenant": seed.tenant.id, "code": code})


def paired(seed):
    return scan(pairing_link(seed))


def at_push(live, seed, **extra):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url(**extra))
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    assert agent.page.url.endswith("/login/method/push"), agent.page.url
    number = int(re.search(r'id="push-number">(\d\d)<', agent.page.text).group(1))
    return rp, agent, number


def authenticator(live) -> Agent:
    phone = Agent(live.url)
    phone.go("/_dev/authenticator/")
    return phone


def last_failure():
    db.session.expire_all()
    return db.session.scalars(
        select(SignInLog).where(SignInLog.result == "failure").order_by(SignInLog.created_at.desc())
    ).first()


def test_pair_by_qr_code_then_approve_the_number_shown(dev, live, seed):
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test")
    agent.go("/contoso.test/mysecurityinfo/authenticator")
    assert "<svg" in agent.page.text
    link = re.search(r'id="pairing-link">([^<]+)<', agent.page.text).group(1).replace("&amp;", "&")
    agent.submit("/mysecurityinfo/authenticator")
    assert agent.page.status_code == 400 and "hasn't paired yet" in agent.text()
    phone = authenticator(live)
    phone.submit("/_dev/authenticator/pair", link=link)
    assert "Paired for alice@contoso.test" in phone.text()
    phone.submit("/_dev/authenticator/pair", link=link)  # a pairing code works once
    assert phone.page.status_code == 400 and "not valid any more" in phone.text()
    agent.submit("/mysecurityinfo/authenticator")
    assert "Microsoft Authenticator" in agent.text() and "Simulated authenticator" in agent.text()

    rp, browser, number = at_push(live, seed)
    phone = authenticator(live)
    text = phone.text()
    assert "App: Web app" in text and "Location:" in text and "alice@contoso.test" in text
    choices = [int(n) for n in re.findall(r'class="number-choice">(\d\d)<', phone.page.text)]
    assert number in choices and len(choices) == 3 == len(set(choices))
    browser.submit("/login/method/push")
    assert browser.page.status_code == 400 and "haven't received your approval" in browser.text()
    [approve] = [
        f for f in forms(phone.page.text) if f["action"].endswith("/approve") and f["fields"]["number"] == str(number)
    ]
    phone.go(approve["action"], "post", approve["fields"])
    assert "No pending requests" in phone.text()
    browser.submit("/login/method/push")
    browser.submit("/login/kmsi", stay="no")
    claims = rp.id_claims(rp.redeem(browser))
    assert {"pwd", "swk", "mfa"} <= set(claims["amr"]) and claims["acr"] == "mfa"


def test_deny_and_wrong_number_are_denials_that_lock_out(dev, live, seed):
    mfa_settings.update(seed.tenant.id, "accountLockout", {"mfaDenialsBeforeLockout": 2})
    db.session.commit()
    simulated = paired(seed)
    _, browser, _ = at_push(live, seed)
    [item] = requests_for(simulated)
    assert answer(simulated, item["id"], "deny") == "denied"
    browser.submit("/login/method/push")
    assert "You denied the request" in browser.text()
    assert last_failure().failure_reason == "MFA denied; user declined the authentication"
    browser.submit("/login/method/push", action="resend")
    [item] = requests_for(simulated)
    shown = int(re.search(r'id="push-number">(\d\d)<', browser.page.text).group(1))
    wrong = next(n for n in item["numberChoices"] if n != shown)
    assert answer(simulated, item["id"], "approve", wrong) == "wrongNumber"
    browser.submit("/login/method/push")
    assert "didn't match" in browser.text()
    db.session.expire_all()
    assert lockout.status(seed.alice)["locked"]
    browser.submit("/login/method/push")
    assert lockout.LOCKED in browser.text()


def test_report_blocks_the_user(dev, live, seed):
    simulated = paired(seed)
    _, browser, _ = at_push(live, seed)
    phone = authenticator(live)
    phone.submit("/report")
    db.session.expire_all()
    assert blocks.active_block(seed.alice) is not None
    assert last_failure().failure_reason == "MFA denied; fraud code entered"
    browser.submit("/login/method/push")
    assert browser.page.status_code == 400  # the reported sign-in is over
    assert service.devices_of(seed.alice.id)[0].id == simulated.device_id  # still paired; the block stops MFA


def test_cli_approves_and_strengths_count_push(dev, live, seed):
    paired(seed)
    rp, browser, number = at_push(live, seed, acr_values=strengths.MFA)
    runner = dev.test_cli_runner()
    listed = runner.invoke(args=["idp", "authenticator", "requests", "--upn", "alice@contoso.test"])
    assert "Web app" in listed.output and str(number) in listed.output
    result = runner.invoke(
        args=["idp", "authenticator", "approve", "--upn", "alice@contoso.test", "--number", str(number)]
    )
    assert result.exit_code == 0 and "approved" in result.output, result.output
    browser.submit("/login/method/push")
    browser.submit("/login/kmsi", stay="no")
    assert rp.id_claims(rp.redeem(browser))["acr"] == strengths.MFA


def test_device_protocol_over_http(dev, live, seed):
    """A third-party app: its own key pair, the documented JSON, signatures checked at every step."""
    link = pairing_link(seed)
    code = re.search(r"code=([^&]+)", link).group(1)
    key, other = protocol.new_key(), protocol.new_key()
    base = f"{live.url}/contoso.test/authenticator/v1"
    body = {"code": code, "publicKey": protocol.public_key_text(key), "deviceName": "Pixel"}
    forged = requests.post(f"{base}/pair", json={**body, "proof": protocol.sign(other, protocol.pairing_message(code))})
    assert forged.status_code == 400 and "proof" in forged.json()["error"]["message"]
    made = requests.post(f"{base}/pair", json={**body, "proof": protocol.sign(key, protocol.pairing_message(code))})
    assert made.status_code == 201 and made.json()["userPrincipalName"] == "alice@contoso.test"
    device_id = made.json()["deviceId"]

    _, browser, number = at_push(live, seed)

    def poll(signer, stamp):
        return requests.get(
            f"{base}/devices/{device_id}/requests",
            headers={
                "X-Authenticator-Timestamp": str(stamp),
                "X-Authenticator-Signature": protocol.sign(signer, protocol.poll_message(device_id, stamp)),
            },
        )

    assert poll(other, clock.timestamp()).status_code == 401
    assert poll(key, clock.timestamp() - 3600).status_code == 401
    [item] = poll(key, clock.timestamp()).json()["value"]
    assert "number" not in item and number in item["numberChoices"] and item["appName"] == "Web app"

    def respond(signer, decision="approve", chosen=number):
        return requests.post(
            f"{base}/requests/{item['id']}/response",
            json={
                "deviceId": device_id,
                "decision": decision,
                "number": chosen,
                "signature": protocol.sign(
                    signer, protocol.response_message(item["id"], item["nonce"], decision, chosen)
                ),
            },
        )

    assert respond(other).status_code == 401
    assert respond(key).json() == {"state": "approved"}
    assert respond(key).status_code == 409  # only the first answer counts
    browser.submit("/login/method/push")
    assert "/login/kmsi" in browser.page.url
    assert devices_for("alice@contoso.test") == []  # a real app, not the simulator
