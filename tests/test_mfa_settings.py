"""MFA settings: lockout, blocks, fraud reports, notifications, trusted IPs and named locations, verification
methods, remember MFA. Time moves by the injectable clock; state lives in the database."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from idp import clock, create_app
from idp.audit.models import AuditLog, SignInLog
from idp.directory import service as directory
from idp.extensions import db
from idp.methods.oath import service as oath_service
from idp.mfa import settings
from idp.mfa.models import MfaBlock, MfaUserState, RiskDetection

from .conftest import LiveServer, _config
from .smtp import wait_for
from .support import PASSWORD, Agent, forms
from .test_oath_api_and_signin import current_code
from .test_oidc_flow import Rp
from .test_strengths import with_totp

SECTIONS = "/policies/mfaSettings"
#: well-formed (the shape of a WebAuthn assertion) and wrong: a denial, where malformed input is not
FORGED_ASSERTION = (
    '{"id": "forged", "rawId": "forged", "type": "public-key", "response": {'
    '"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"}}'
)
LOCKED = "temporarily locked"


def configure(tenant_id, section, **values):
    settings.update(tenant_id, section, values)
    db.session.commit()


def at_oath_step(live, seed, upn="alice@contoso.test", headers=None):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    if headers:
        agent.http.headers.update(headers)
    agent.go(rp.authorize_url())
    agent.submit("/login", username=upn)
    agent.submit("/login/method/password", password=PASSWORD)
    return rp, agent


def wrong(agent):
    return agent.submit("/login/method/oath", otc="000000")


def audit_activities(tenant_id):
    db.session.expire_all()
    return [
        a.activity
        for a in db.session.scalars(
            select(AuditLog).where(AuditLog.tenant_id == tenant_id).order_by(AuditLog.created_at)
        )
    ]


# --- account lockout -------------------------------------------------------------------------------------


def test_lockout_threshold_reset_and_automatic_unlock(app, live, seed):
    secret = with_totp(seed.alice)
    configure(
        seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=3, minutesUntilCounterReset=5, minutesUntilUnlock=15
    )
    _, agent = at_oath_step(live, seed)
    wrong(agent), wrong(agent)
    clock.advance(timedelta(minutes=6))  # the counter resets after 5 minutes
    wrong(agent), wrong(agent)
    assert LOCKED not in agent.text()
    wrong(agent)  # the third denial within the window locks
    response = agent.submit("/login/method/oath", otc=current_code(secret))  # even the right code: no oracle
    assert response.status_code == 400 and LOCKED in agent.text()
    clock.advance(timedelta(minutes=14))
    agent.submit("/login/method/oath", otc=current_code(secret))
    assert LOCKED in agent.text()
    clock.advance(timedelta(minutes=1, seconds=1))  # 15 minutes: unlocked automatically
    agent.submit("/login/method/oath", otc=current_code(secret))
    assert "/login/kmsi" in agent.page.url


def test_fifty_parallel_wrong_codes_check_at_most_the_threshold(app, live, seed, monkeypatch):
    with_totp(seed.alice)
    configure(seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=5)
    checked = []
    real_verify = oath_service.verify

    def counting_verify(*args, **kwargs):
        checked.append(1)
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(oath_service, "verify", counting_verify)
    agents = [at_oath_step(live, seed)[1] for _ in range(50)]
    barrier = threading.Barrier(50)

    def attempt(agent):
        form = next(f for f in forms(agent.page.text) if "/method/oath" in f["action"])
        barrier.wait(timeout=60)
        return agent.http.post(
            agent.page.url, data={**form["fields"], "otc": "000000"}, headers={"Referer": agent.page.url}
        ).text

    with ThreadPoolExecutor(50) as pool:
        pages = list(pool.map(attempt, agents))
    assert len(checked) <= 5
    assert sum(LOCKED in page for page in pages) >= 45
    db.session.expire_all()
    state = db.session.get(MfaUserState, seed.alice.id)
    assert state.locked_until is not None and state.denials == 5 and state.in_flight == 0


def test_failed_passkey_assertions_count_as_denials(app, live, seed):
    from .authenticator import SoftAuthenticator
    from .test_passkeys import enable_fido2, msi_agent, register

    configure(seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=2)
    enable_fido2(seed.tenant.id)
    register(msi_agent(live, seed), SoftAuthenticator(), live)
    agent = Agent(live.url)
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    for _ in range(2):
        agent.go("/contoso.test/login/method/passkey")
        agent.submit("/login/method/passkey", credential=FORGED_ASSERTION)
    agent.go("/contoso.test/login/method/passkey")  # locked: the prompt is not even shown
    assert LOCKED in agent.text() and agent.page.status_code == 403 and 'name="credential"' not in agent.page.text
    db.session.expire_all()
    assert db.session.get(MfaUserState, seed.alice.id).locked_until is not None


def test_wrong_email_codes_count_as_denials(app, live, seed):
    from .test_guests import invite

    configure(seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=2)
    _, response = invite(live, seed, send=False)
    agent = Agent(live.url)
    agent.go(response.json()["inviteRedeemUrl"].replace("http://localhost", live.url))
    agent.submit("", action="send")
    for _ in range(3):
        agent.submit("/login/method/", otc="00000000")
    assert LOCKED in agent.text()


# --- block / unblock ---------------------------------------------------------------------------------------


def test_block_refuses_mfa_lasts_90_days_and_unblock_needs_a_reason(app, live, seed, graph_as):
    secret = with_totp(seed.alice)
    apa = graph_as("apa")
    assert (
        apa("POST", f"{SECTIONS}/blockedUsers", {"userPrincipalName": "alice@contoso.test", "reason": ""}).status_code
        == 400
    )
    block = apa(
        "POST", f"{SECTIONS}/blockedUsers", {"userPrincipalName": "alice@contoso.test", "reason": "Lost phone reported"}
    ).json()
    assert block["isActive"] and block["blockedBy"] == "apa@contoso.test" and block["reason"] == "Lost phone reported"
    _, agent = at_oath_step(live, seed)
    agent.submit("/login/method/oath", otc=current_code(secret))
    assert "blocked from multifactor authentication" in agent.text()
    response = apa("GET", f"{SECTIONS}/blockedUsers")
    listed = response.json()["value"]
    assert [(b["userPrincipalName"], b["reason"]) for b in listed] == [("alice@contoso.test", "Lost phone reported")]
    blocked_at = datetime.strptime(block["blockedDateTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert listed[0]["expirationDateTime"] == clock.iso(blocked_at + timedelta(days=90))
    clock.advance(timedelta(days=90, seconds=1))  # blocks end after 90 days
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/method/oath", otc=current_code(secret))
    assert "/login/kmsi" in agent.page.url
    db.session.expire_all()
    assert not db.session.scalar(select(MfaBlock)).is_active()  # (the admin's token expired meanwhile)


def test_unblock_requires_a_reason_and_is_listed(app, live, seed, graph_as):
    apa = graph_as("apa")
    block = apa(
        "POST", f"{SECTIONS}/blockedUsers", {"userPrincipalName": "alice@contoso.test", "reason": "Test"}
    ).json()
    assert apa("POST", f"{SECTIONS}/blockedUsers/{block['id']}/unblock", {"reason": " "}).status_code == 400
    done = apa("POST", f"{SECTIONS}/blockedUsers/{block['id']}/unblock", {"reason": "Found the phone"}).json()
    assert (
        done["isActive"] is False
        and done["unblockReason"] == "Found the phone"
        and done["unblockedBy"] == "apa@contoso.test"
    )
    assert "Unblock user from MFA" in audit_activities(seed.tenant.id)


# --- fraud alert and suspicious activity --------------------------------------------------------------------


@pytest.mark.parametrize(
    "allow,auto_block,suspicious,expected",
    [
        (True, True, "disabled", ["Fraud reported - user is blocked for MFA"]),
        (True, False, "disabled", ["Fraud reported - no action taken"]),
        (False, False, "enabled", ["Suspicious activity reported"]),
        (True, True, "enabled", ["Fraud reported - user is blocked for MFA", "Suspicious activity reported"]),
    ],
)
def test_fraud_report_under_each_setting(app, live, seed, allow, auto_block, suspicious, expected):
    with_totp(seed.alice)
    configure(seed.tenant.id, "fraudAlert", allowUsersToSubmitFraudAlerts=allow, blockUserWhenFraudReported=auto_block)
    configure(seed.tenant.id, "reportSuspiciousActivity", state=suspicious)
    _, agent = at_oath_step(live, seed)
    assert "I didn't try to sign in" in agent.text()
    agent.submit("/login/report")
    assert "Thanks for reporting it" in agent.text()
    db.session.expire_all()
    log = db.session.scalars(select(SignInLog).order_by(SignInLog.created_at)).all()[-1]
    assert log.result == "failure" and log.failure_reason == "MFA denied; fraud code entered"
    activities = audit_activities(seed.tenant.id)
    assert [a for a in activities if "reported" in a] == expected
    state = db.session.get(MfaUserState, seed.alice.id)
    assert (db.session.scalar(select(MfaBlock)) is not None) == (allow and auto_block)
    raised = suspicious == "enabled"
    assert (state is not None and state.risk_level == "high" and state.risk_state == "atRisk") == raised
    detection = db.session.scalar(select(RiskDetection))
    assert (detection is not None) == raised
    if raised:
        assert (detection.risk_event_type, detection.risk_level, detection.source) == (
            "userReportedSuspiciousActivity",
            "high",
            "End user reported",
        )
    # the reported sign-in cannot continue
    agent.go("/contoso.test/login/method/oath")
    assert agent.page.status_code == 400


def test_default_state_means_disabled_and_both_off_offers_no_report(app, live, seed):
    with_totp(seed.alice)
    configure(seed.tenant.id, "fraudAlert", allowUsersToSubmitFraudAlerts=False)
    _, agent = at_oath_step(live, seed)  # reportSuspiciousActivity is "default" = disabled
    assert "I didn't try to sign in" not in agent.text()


def test_passwordless_sign_in_report_does_not_raise_risk(app, live, seed):
    """A guest's code mail is a passwordless sign-in: its report is recorded but raises no risk. (A passkey's
    first step offers no report at all: nothing was proved yet, issue 14 H-1.)"""
    from idp.mailer import OutboxMessage

    from .test_guests import GUEST, invite

    configure(seed.tenant.id, "reportSuspiciousActivity", state="enabled")
    configure(seed.tenant.id, "fraudAlert", allowUsersToSubmitFraudAlerts=False)
    _, response = invite(live, seed, send=False)
    agent = Agent(live.url)
    agent.go(response.json()["inviteRedeemUrl"])
    agent.submit("", action="send")
    db.session.expire_all()
    body = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == GUEST)).all()[-1].body
    reporter = Agent(live.url)
    reporter.go(next(word for word in body.split() if "/report?r=" in word))
    reporter.submit("")
    db.session.expire_all()
    guest = db.session.scalar(select(directory.User).where(directory.User.mail == GUEST))
    state = db.session.get(MfaUserState, guest.id)
    assert state is None or state.risk_level == "none"
    assert "Suspicious activity reported" in audit_activities(seed.tenant.id)


def test_notification_mail_to_administrators(app, live, seed, smtp, graph_as):
    with_totp(seed.alice)
    apa = graph_as("apa")
    assert apa("PATCH", f"{SECTIONS}/notifications", {"recipients": ["secops@contoso.test", "nope"]}).status_code == 400
    assert apa("PATCH", f"{SECTIONS}/notifications", {"recipients": ["secops@contoso.test"]}).status_code == 204
    _, agent = at_oath_step(live, seed)
    agent.submit("/login/report")
    assert wait_for(lambda: smtp.to("secops@contoso.test"))
    message = smtp.to("secops@contoso.test")[0]
    body = message.get_payload(decode=True).decode()
    assert message["Subject"] == "Fraud alert: alice@contoso.test"
    assert "alice@contoso.test" in body and "127.0.0.1" in body and "blocked from MFA for 90 days" in body


def test_admins_list_and_dismiss_risk_and_can_block_high_risk_sign_in(app, live, seed, graph_as):
    with_totp(seed.alice)
    configure(seed.tenant.id, "reportSuspiciousActivity", state="enabled")
    configure(seed.tenant.id, "fraudAlert", allowUsersToSubmitFraudAlerts=False)
    _, agent = at_oath_step(live, seed)
    agent.submit("/login/report")
    ga = graph_as("ga")
    risky = ga("GET", "/identityProtection/riskyUsers").json()["value"]
    assert [(u["userPrincipalName"], u["riskLevel"], u["riskState"]) for u in risky] == [
        ("alice@contoso.test", "high", "atRisk")
    ]
    assert (
        ga("GET", "/identityProtection/riskDetections").json()["value"][0]["riskEventType"]
        == "userReportedSuspiciousActivity"
    )
    configure(seed.tenant.id, "riskPolicy", blockSignInForHighRiskUsers=True)
    agent = Agent(live.url)
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    assert "account is at high risk" in agent.text()
    assert ga("POST", "/identityProtection/riskyUsers/dismiss", {"userIds": [seed.alice.id]}).status_code == 204
    assert ga("GET", "/identityProtection/riskyUsers").json()["value"][0]["riskState"] == "dismissed"
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    assert "/login/method/oath" in agent.page.url


def test_report_link_in_the_guest_code_email_denies_the_pending_sign_in(app, live, seed):
    from .test_guests import GUEST, invite

    _, response = invite(live, seed, send=False)
    agent = Agent(live.url)
    agent.go(response.json()["inviteRedeemUrl"].replace("http://localhost", live.url))
    agent.submit("", action="send")
    from idp.mailer import OutboxMessage

    db.session.expire_all()
    body = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == GUEST)).all()[-1].body
    link = next(word for word in body.split() if "/report?r=" in word).replace("http://localhost", live.url)
    reporter = Agent(live.url)
    page = reporter.go(link)  # a GET (a mail scanner) reports nothing
    assert "report it" in page.text and not any("reported" in a for a in audit_activities(seed.tenant.id))
    reporter.submit("")
    assert "Fraud reported - user is blocked for MFA" in audit_activities(seed.tenant.id)
    agent.submit("", otc="12345678")
    assert agent.page.status_code == 400  # the pending redemption was denied


# --- trusted IPs and named locations ------------------------------------------------------------------------


def test_trusted_ip_rules(graph_as):
    apa = graph_as("apa")
    ok = apa(
        "PATCH", f"{SECTIONS}/trustedIps", {"skipMfaForTrustedIps": True, "ranges": ["81.2.69.0/24", "8.8.8.8/32"]}
    )
    assert ok.status_code == 204
    assert apa("GET", f"{SECTIONS}/trustedIps").json()["ranges"] == ["81.2.69.0/24", "8.8.8.8/32"]
    too_many = [f"81.{i}.0.0/16" for i in range(51)]
    refused = apa("PATCH", f"{SECTIONS}/trustedIps", {"ranges": too_many})
    assert refused.status_code == 400 and "At most 50" in refused.json()["error"]["message"]
    assert apa("PATCH", f"{SECTIONS}/trustedIps", {"ranges": too_many[:50]}).status_code == 204
    private = apa("PATCH", f"{SECTIONS}/trustedIps", {"ranges": ["10.1.0.0/16"]})
    assert private.status_code == 400 and "private" in private.json()["error"]["message"]
    ipv6 = apa("PATCH", f"{SECTIONS}/trustedIps", {"ranges": ["2001:db8::/32"]})
    assert ipv6.status_code == 400 and "named location" in ipv6.json()["error"]["message"]
    # named locations take IPv6 too (public ranges only, as in Entra)
    created = apa(
        "POST",
        "/identity/conditionalAccess/namedLocations",
        {
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "displayName": "HQ",
            "isTrusted": True,
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2a01:111:f400::/48"},
                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "81.2.69.0/24"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    assert [r["cidrAddress"] for r in created.json()["ipRanges"]] == ["2a01:111:f400::/48", "81.2.69.0/24"]
    bad = apa(
        "POST",
        "/identity/conditionalAccess/namedLocations",
        {"displayName": "x", "ipRanges": [{"cidrAddress": "nope"}]},
    )
    assert bad.status_code == 400


def test_trusted_named_location_skips_mfa_and_a_forged_header_does_not(app, live, seed, graph_as, tmp_path):
    with_totp(seed.alice)
    graph_as("apa")(
        "POST",
        "/identity/conditionalAccess/namedLocations",
        {"displayName": "Branch office", "isTrusted": True, "ipRanges": [{"cidrAddress": "81.2.69.0/24"}]},
    )
    # no trusted proxies: X-Forwarded-For is ignored, the socket address (127.0.0.1) is not trusted
    _, agent = at_oath_step(live, seed, headers={"X-Forwarded-For": "81.2.69.10"})
    assert "/login/method/oath" in agent.page.url
    proxied = create_app({**_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]), "IDP_TRUSTED_PROXIES": 1})
    server = LiveServer(proxied)
    try:
        _, agent = at_oath_step(server, seed, headers={"X-Forwarded-For": "81.2.69.10"})
        assert "/login/kmsi" in agent.page.url
        agent.submit("/login/kmsi", stay="no")
    finally:
        server.stop()
    db.session.expire_all()
    log = db.session.scalars(select(SignInLog).where(SignInLog.result == "success")).all()[-1]
    assert log.failure_reason == "MFA skipped: the sign-in came from the trusted named location 'Branch office'"


def test_trusted_ips_behind_a_trusted_proxy(app, seed, tmp_path):
    """With IDP_TRUSTED_PROXIES=1 the proxy's X-Forwarded-For is the client address."""
    with_totp(seed.alice)
    configure(seed.tenant.id, "trustedIps", skipMfaForTrustedIps=True, ranges=["81.2.69.0/24"])
    proxied = create_app({**_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]), "IDP_TRUSTED_PROXIES": 1})
    server = LiveServer(proxied)
    try:
        _, agent = at_oath_step(server, seed, headers={"X-Forwarded-For": "81.2.69.10"})
        assert "/login/kmsi" in agent.page.url
        _, agent = at_oath_step(server, seed, headers={"X-Forwarded-For": "81.2.70.10"})
        assert "/login/method/oath" in agent.page.url
    finally:
        server.stop()


# --- verification methods -------------------------------------------------------------------------------------


def test_disabled_verification_method_is_not_offered(app, live, seed, graph_as):
    with_totp(seed.alice)
    apa = graph_as("apa")
    refused = apa("PATCH", f"{SECTIONS}/verificationMethods", {"textMessage": "yes"})
    assert refused.status_code == 400 and "true or false" in refused.json()["error"]["message"]
    assert apa("PATCH", f"{SECTIONS}/verificationMethods", {"verificationCode": False}).status_code == 204
    _, agent = at_oath_step(live, seed)
    assert "/login/method/oath" not in agent.page.url  # no longer asked for a code
    agent.go("/contoso.test/login/method/oath")
    assert 'name="otc"' not in agent.page.text


# --- remember MFA ---------------------------------------------------------------------------------------------


def mfa_sign_in(live, seed, secret, agent=None, remember=False):
    rp = Rp(live, seed)
    agent = agent or Agent(live.url)
    agent.go(rp.authorize_url(scope="openid offline_access"))
    if "/login/" in agent.page.url:
        agent.submit("/login", username="alice@contoso.test")
        agent.submit("/login/method/password", password=PASSWORD)
        if "/login/method/oath" in agent.page.url:
            clock.advance(timedelta(seconds=30))
            agent.submit("/login/method/oath", otc=current_code(secret), **({"remember_mfa": "on"} if remember else {}))
        agent.submit("/login/kmsi", stay="no")
    return rp, agent


def asked_for_mfa(live, seed, agent):
    """A new browser session on the same device: the SSO and flow cookies go, the remember-MFA cookie stays."""
    for cookie in list(agent.http.cookies):
        if cookie.name.startswith("idp_sso_") or cookie.name == "idp_flow":
            agent.http.cookies.clear(cookie.domain, cookie.path, cookie.name)
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    return "/login/method/oath" in agent.page.url


def test_remember_mfa_across_browser_sessions_expiry_and_revoke(app, live, seed, graph_as):
    secret = with_totp(seed.alice)
    configure(seed.tenant.id, "rememberMfa", isEnabled=True, days=7)
    _, agent = at_oath_step(live, seed)
    assert "Don't ask again for 7 days" in agent.text()
    clock.advance(timedelta(seconds=30))
    agent.submit("/login/method/oath", otc=current_code(secret), remember_mfa="on")
    agent.submit("/login/kmsi", stay="no")
    assert not asked_for_mfa(live, seed, agent)  # a new browser session, same device: not asked
    other = Agent(live.url)
    assert asked_for_mfa(live, seed, other)  # another browser: asked
    clock.advance(timedelta(days=7, seconds=1))
    assert asked_for_mfa(live, seed, agent)  # expired
    # remember again, then an administrator revokes every remembered device
    agent.submit("/login/method/oath", otc=current_code(secret), remember_mfa="on")
    agent.submit("/login/kmsi", stay="no")
    assert not asked_for_mfa(live, seed, agent)
    clock.advance(timedelta(seconds=2))
    assert graph_as("ga")("POST", f"/users/{seed.alice.id}/revokeMfaSessions").status_code == 204
    assert asked_for_mfa(live, seed, agent)


def test_remembered_sign_in_refresh_needs_a_recent_real_mfa(app, live, seed):
    secret = with_totp(seed.alice)
    configure(seed.tenant.id, "rememberMfa", isEnabled=True, days=3)
    _, agent = mfa_sign_in(live, seed, secret, remember=True)
    for cookie in list(agent.http.cookies):
        if cookie.name.startswith("idp_sso_") or cookie.name == "idp_flow":
            agent.http.cookies.clear(cookie.domain, cookie.path, cookie.name)
    clock.advance(timedelta(days=2))
    rp, agent = mfa_sign_in(live, seed, secret, agent=agent)  # MFA remembered: not asked
    token = rp.redeem(agent)
    assert "mfa" in rp.id_claims(token)["amr"]
    clock.advance(timedelta(days=1, minutes=1))  # the real MFA is now more than 3 days old
    refused = requests.post(
        rp.meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(seed.client_id, seed.client_secret),
    )
    assert refused.status_code == 400 and "remembered device" in refused.json()["error_description"]


def test_remember_mfa_is_never_offered_to_guests(app, live, seed):
    configure(seed.tenant.id, "rememberMfa", isEnabled=True)
    from idp.mfa import remember

    guest = directory.create_user(
        seed.tenant, "g_partner.example#EXT#@contoso.test", "G", guest="external", mail="g@partner.example"
    )
    db.session.commit()
    assert remember.days_offered(guest) is None and remember.days_offered(seed.alice) == 90


def test_settings_are_audited_and_in_the_openapi_document(app, live, graph_as, seed):
    apa = graph_as("apa")
    assert apa("PATCH", f"{SECTIONS}/accountLockout", {"mfaDenialsBeforeLockout": 0}).status_code == 400
    assert apa("PATCH", f"{SECTIONS}/accountLockout", {"mfaDenialsBeforeLockout": 4}).status_code == 204
    assert apa("PATCH", f"{SECTIONS}/rememberMfa", {"days": 366}).status_code == 400
    assert apa("GET", f"{SECTIONS}/nope").status_code == 404
    assert graph_as("gr")("PATCH", f"{SECTIONS}/accountLockout", {"mfaDenialsBeforeLockout": 9}).status_code == 403
    assert "Update MFA settings: Account lockout" in audit_activities(seed.tenant.id)
    paths = requests.get(f"{live.url}/graph/openapi.json").json()["paths"]
    assert "/policies/mfaSettings/{section}" in paths and "/identity/conditionalAccess/namedLocations" in paths
    policy = apa("GET", "/policies/authenticationMethodsPolicy").json()
    assert policy["reportSuspiciousActivitySettings"]["state"] == "default"
    assert (
        apa(
            "PATCH",
            "/policies/authenticationMethodsPolicy",
            {
                "reportSuspiciousActivitySettings": {
                    "state": "enabled",
                    "includeTarget": {"targetType": "group", "id": "all_users"},
                    "voiceReportingCode": 0,
                }
            },
        ).status_code
        == 204
    )
    assert (
        apa("GET", "/policies/authenticationMethodsPolicy").json()["reportSuspiciousActivitySettings"]["state"]
        == "enabled"
    )


def test_console_page_changes_settings_blocks_and_revokes(app, live, seed):
    agent = Agent(live.url)
    agent.go("/contoso.test/admin/mfa")
    from .support import password_sign_in

    password_sign_in(agent, "admin@contoso.test")
    agent.go("/contoso.test/admin/mfa")
    text = agent.text()
    assert "Account lockout" in text and "Remember multifactor authentication" in text and "Phone call settings" in text
    agent.go("/contoso.test/admin/mfa/accountLockout")  # each section is its own page
    agent.submit(
        "/admin/mfa/settings/accountLockout",
        isEnabled="on",
        mfaDenialsBeforeLockout="4",
        minutesUntilCounterReset="10",
        minutesUntilUnlock="20",
    )
    db.session.expire_all()
    assert settings.get(seed.tenant.id, "accountLockout")["mfaDenialsBeforeLockout"] == 4
    assert "Saved." in agent.text() and agent.page.url.endswith("/admin/mfa/accountLockout")
    agent.go("/contoso.test/admin/mfa/trustedIps")
    agent.submit("/admin/mfa/settings/trustedIps", skipMfaForTrustedIps="on", ranges="10.0.0.0/8")
    assert "private or reserved addresses" in agent.text() and agent.page.status_code == 400
    assert "10.0.0.0/8</textarea>" in agent.page.text  # the input is kept
    agent.go("/contoso.test/admin/mfa/block")
    agent.submit("/admin/mfa/block", upn="alice@contoso.test", reason="Phone stolen")
    assert "Phone stolen" in agent.text() and "admin@contoso.test" in agent.text()
    agent.submit("/unblock", reason="Phone found")
    db.session.expire_all()
    assert not db.session.scalar(select(MfaBlock)).is_active()
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    agent.submit("/revoke-mfa-sessions")
    db.session.expire_all()
    assert db.session.get(MfaUserState, seed.alice.id).remember_revoked_at is not None
    activities = audit_activities(seed.tenant.id)
    assert {
        "Update MFA settings: Account lockout",
        "Block user from MFA",
        "Unblock user from MFA",
        "Revoke MFA sessions",
    } <= set(activities)


# --- issue 15 --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("switch_off", ["verificationCode", "SoftwareOath policy"])
def test_switching_a_method_off_never_downgrades_a_registered_user_to_password_only(app, live, seed, switch_off):
    with_totp(seed.alice)
    if switch_off == "verificationCode":
        configure(seed.tenant.id, "verificationMethods", verificationCode=False)
    else:
        from idp.policy import service as policy

        config = policy.get(seed.tenant.id, "SoftwareOath")
        config.state = "disabled"
        policy.save(seed.tenant.id, config)
        db.session.commit()
    _, agent = at_oath_step(live, seed)
    assert agent.page.status_code == 400 and "More information required" in agent.text()
    assert "turned this method off" in agent.text() and "code" not in agent.redirect_params()
    agent.go("/contoso.test/login/kmsi")  # no way round the MFA step
    assert agent.page.status_code == 400 and "More information required" in agent.text()
    db.session.expire_all()
    reasons = [log.failure_reason for log in db.session.scalars(select(SignInLog))]
    assert "the user has no MFA method registered" not in reasons
    assert not db.session.scalars(select(SignInLog).where(SignInLog.result == "success")).all()


def test_blocking_a_blocked_user_is_a_conflict_with_one_audit_entry(app, live, seed, graph_as):
    apa = graph_as("apa")
    first = apa("POST", f"{SECTIONS}/blockedUsers", {"userPrincipalName": "alice@contoso.test", "reason": "Lost phone"})
    again = apa("POST", f"{SECTIONS}/blockedUsers", {"userPrincipalName": "alice@contoso.test", "reason": "Other"})
    assert (
        first.status_code == 201 and again.status_code == 409 and "already blocked" in again.json()["error"]["message"]
    )
    assert audit_activities(seed.tenant.id).count("Block user from MFA") == 1
    assert [b.reason for b in db.session.scalars(select(MfaBlock))] == ["Lost phone"]


def console_mfa(live):
    from .support import password_sign_in

    agent = Agent(live.url)
    agent.go("/contoso.test/admin/mfa")
    password_sign_in(agent, "admin@contoso.test")
    agent.go("/contoso.test/admin/mfa")
    return agent


def test_console_refuses_a_group_that_does_not_exist_and_shows_only_its_own_messages(app, live, seed):
    agent = console_mfa(live)
    agent.go("/contoso.test/admin/mfa/reportSuspiciousActivity")
    agent.submit(
        "/admin/mfa/settings/reportSuspiciousActivity",
        state="enabled",
        includeTarget="no-such-group",
        voiceReportingCode="0",
    )
    assert "That group no longer exists" in agent.text() and "Saved." not in agent.text()
    db.session.expire_all()
    assert settings.get(seed.tenant.id, "reportSuspiciousActivity")["state"] == "default"
    agent.go("/contoso.test/admin/mfa/block")
    agent.submit("/admin/mfa/block", upn="alice@contoso.test", reason="Phone stolen")
    agent.submit("/admin/mfa/block", upn="alice@contoso.test", reason="Again")
    assert "already blocked" in agent.text()
    agent.go("/contoso.test/admin/mfa?error=Your+account+is+compromised.+Call+555-0100&saved=1")
    assert "555-0100" not in agent.text() and "Saved." not in agent.text()  # (the URL may appear in links)


def test_the_report_page_tells_only_what_happened_and_survives_a_reload(app, live, seed, smtp):
    with_totp(seed.alice)
    _, agent = at_oath_step(live, seed)  # no notification recipients
    agent.submit("/login/report")
    assert "Thanks for reporting it" in agent.text() and "administrators have been told" not in agent.text()
    agent.go("/contoso.test/login/method/oath")  # reopened: the report, not a time-out
    assert "timed out" not in agent.text() and "Thanks for reporting it" in agent.text()
    configure(seed.tenant.id, "notifications", recipients=["secops@contoso.test"])
    db.session.execute(db.delete(MfaBlock))
    db.session.commit()
    _, agent = at_oath_step(live, seed)
    agent.submit("/login/report")
    assert "administrators have been told" in agent.text()
