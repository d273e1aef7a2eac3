"""Regression tests for the sign-in and session findings of the penetration test (issue 14): each one failed
on the code before its fix."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from idp import clock, create_app, urls
from idp.audit.models import AuditLog
from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.mfa import settings
from idp.mfa.models import MfaBlock, MfaUserState

from .conftest import LiveServer, _config
from .support import PASSWORD, Agent, forms, password_sign_in
from .test_oidc_flow import Rp, signed_in
from .test_strengths import with_totp


def configure(tenant_id, section, **values):
    settings.update(tenant_id, section, values)
    db.session.commit()


def csrf_of(agent) -> str:
    return next(f["fields"]["csrf_token"] for f in forms(agent.page.text) if "csrf_token" in f["fields"])


def post(agent, path, **data):
    """A form post the page did not offer (what an attacker's script sends), with this browser's CSRF token."""
    return agent.go(path, "post", {"csrf_token": csrf_of(agent), **data})


def at_password_step(live, seed, upn="alice@contoso.test", headers=None):
    agent = Agent(live.url)
    if headers:
        agent.http.headers.update(headers)
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username=upn)
    return agent


def fraud_audits(tenant_id) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.tenant_id == tenant_id, AuditLog.activity.like("Fraud reported%"))
    )


@pytest.fixture
def proxied(app, tmp_path):
    """The same database behind a trusted proxy: X-Forwarded-For sets the client address."""
    server = LiveServer(
        create_app({**_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]), "IDP_TRUSTED_PROXIES": 1})
    )
    yield server
    server.stop()


# --- H-1 anonymous MFA block ----------------------------------------------------------------------------


def test_h1_no_report_before_a_first_factor(app, live, seed):
    """Typing a name is not enough to report (and so block) its user; real and unknown names answer alike."""
    from .authenticator import SoftAuthenticator
    from .test_passkeys import enable_fido2, msi_agent, register

    enable_fido2(seed.tenant.id)
    register(msi_agent(live, seed), SoftAuthenticator(), live)
    configure(seed.tenant.id, "fraudAlert", allowUsersToSubmitFraudAlerts=True, blockUserWhenFraudReported=True)
    configure(seed.tenant.id, "reportSuspiciousActivity", state="enabled")
    answers = []
    for upn in ("alice@contoso.test", "nobody@contoso.test"):
        agent = at_password_step(live, seed, upn)
        assert "I didn't try to sign in" not in agent.text()  # not offered on the passkey (first) step either
        response = post(agent, "/contoso.test/login/report")
        answers.append((response.status_code, re.sub(r'value="[^"]*"', "", response.text)))
    assert answers[0] == answers[1] and answers[0][0] == 400
    db.session.expire_all()
    assert db.session.scalar(select(MfaBlock)) is None and fraud_audits(seed.tenant.id) == 0
    state = db.session.get(MfaUserState, seed.alice.id)
    assert state is None or state.risk_level == "none"


def test_h1_report_after_the_password_still_works(app, live, seed):
    with_totp(seed.alice)
    configure(seed.tenant.id, "fraudAlert", allowUsersToSubmitFraudAlerts=True, blockUserWhenFraudReported=True)
    agent = at_password_step(live, seed)
    agent.submit("/login/method/password", password=PASSWORD)
    assert "I didn't try to sign in" in agent.text()
    agent.submit("/login/report")
    assert "Thanks for reporting it" in agent.text() and fraud_audits(seed.tenant.id) == 1


def test_h1_report_link_of_a_code_mail_works_once_and_expires(app, live, seed):
    from idp.mailer import OutboxMessage

    from .test_guests import GUEST, invite

    _, response = invite(live, seed, send=False)

    def mailed_link():
        agent = Agent(live.url)
        agent.go(response.json()["inviteRedeemUrl"])
        agent.submit("", action="send")
        db.session.expire_all()
        body = (
            db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient == GUEST).order_by(OutboxMessage.created_at)
            )
            .all()[-1]
            .body
        )
        return next(word for word in body.split() if "/report?r=" in word)

    link = mailed_link()
    reporter = Agent(live.url)
    reporter.go(link)
    reporter.submit("")
    assert "Thank you" in reporter.text() and fraud_audits(seed.tenant.id) == 1
    replay = Agent(live.url)
    replay.go(link)
    replay.submit("")
    assert replay.page.status_code == 400 and fraud_audits(seed.tenant.id) == 1  # used once
    db.session.execute(MfaBlock.__table__.delete())
    db.session.commit()
    late = Agent(live.url)
    late.go(mailed_link())
    clock.advance(timedelta(minutes=31))  # the code's lifetime is the link's
    late.submit("")
    assert late.page.status_code == 400 and fraud_audits(seed.tenant.id) == 1
    forged = requests.post(f"{live.url}/{seed.tenant.id}/report", data={"r": "x"})
    assert forged.status_code == 400


# --- M-1 sign-in transaction fixation -------------------------------------------------------------------


def test_m1_a_planted_flow_cookie_is_worthless_once_the_victim_proves_a_factor(live, seed):
    attacker = Agent(live.url)
    attacker.go(Rp(live, seed).authorize_url())
    planted = attacker.http.cookies.get("idp_flow")
    victim = Agent(live.url)
    victim.http.cookies.set("idp_flow", planted, domain="127.0.0.1", path="/")
    victim.go("/contoso.test/login/")
    victim.submit("/login", username="alice@contoso.test")
    victim.submit("/login/method/password", password=PASSWORD)
    assert "Stay signed in?" in victim.text()
    page = attacker.go("/contoso.test/login/kmsi")  # the attacker answers first
    assert page.status_code == 400 and "Stay signed in?" not in page.text
    assert not any(c.name.startswith("idp_sso_") for c in attacker.http.cookies)
    victim.submit("/login/kmsi", stay="no")
    assert "code" in victim.redirect_params()


def test_m1_host_prefixed_cookies_and_hsts_over_https(app, seed):
    client = app.test_client()
    page = client.get("/contoso.test/login/", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-idp_flow=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    plain = client.get("/contoso.test/login/", base_url="http://localhost")
    assert "Strict-Transport-Security" not in plain.headers


def test_m1_https_sign_in_sets_host_cookies(app, seed):
    from idp.signin import sessions

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    client.get("/contoso.test/login/", **https)
    client.post("/contoso.test/login/", data={"username": "alice@contoso.test"}, **https)
    client.post("/contoso.test/login/method/password", data={"password": PASSWORD}, **https)
    response = client.post("/contoso.test/login/kmsi", data={"stay": "yes"}, **https)
    names = [c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie")]
    assert f"__Host-{sessions.COOKIE_PREFIX}{seed.tenant.id}" in names and "__Host-idp_flow" in names
    assert all("Secure" in c and "Path=/" in c for c in response.headers.getlist("Set-Cookie"))


# --- M-2 open redirect ----------------------------------------------------------------------------------

HOSTILE_TARGETS = [
    "/%09/evil.example",
    "/\t/evil.example",
    "/%0d%0a/evil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "/%252F%252Fevil.example",
    "//evil.example",
    "https://evil.example/",
    "/ /evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_m2_return_to_never_leaves_the_origin(live, seed, target):
    assert urls.local_target(target) is None
    agent = Agent(live.url)
    agent.go(f"/contoso.test/login/?return_to={requests.utils.quote(target, safe='%/')}")
    password_sign_in(agent, "alice@contoso.test")
    location = agent.page.url if agent.page.status_code == 200 else agent.location
    assert location.startswith(live.url + "/contoso.test/") and "evil" not in location, location


def test_m2_a_local_return_to_is_kept(live, seed):
    agent = Agent(live.url)
    agent.go("/contoso.test/login/?return_to=/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test")
    assert agent.page.url == f"{live.url}/contoso.test/mysecurityinfo/"


# --- M-4 password limit raced, L-9 smart lockout -------------------------------------------------------


def test_m4_parallel_wrong_passwords_check_at_most_the_threshold(app, live, seed, monkeypatch):
    from idp import passwords

    checked, lock = [], threading.Lock()
    original = passwords.verify_password

    def counting(hashed, password):
        with lock:
            checked.append(password)
        return original(hashed, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    agents = [at_password_step(live, seed) for _ in range(28)]
    with ThreadPoolExecutor(max_workers=28) as pool:
        statuses = list(pool.map(lambda a: a.submit("/login/method/password", password="wrong").status_code, agents))
    assert len(checked) <= 10, len(checked)
    assert statuses.count(400) == len(checked) and statuses.count(429) == 28 - len(checked)
    late = at_password_step(live, seed)
    late.submit("/login/method/password", password=PASSWORD)  # locked: even the right password waits
    assert late.page.status_code == 429 and "Too many attempts" in late.text()
    clock.advance(timedelta(minutes=6))
    late.submit("/login/method/password", password=PASSWORD)
    assert "Stay signed in?" in late.text()


def test_m4_unknown_names_are_locked_like_real_ones(app, live, seed):
    for upn in ("alice@contoso.test", "nobody@contoso.test"):
        agent = at_password_step(live, seed, upn)
        for _ in range(10):
            assert agent.submit("/login/method/password", password="wrong").status_code == 400
        assert agent.submit("/login/method/password", password="wrong").status_code == 429


def test_l9_failures_elsewhere_do_not_lock_the_owner_out(app, seed, proxied):
    owner = at_password_step(proxied, seed, headers={"X-Forwarded-For": "198.51.100.7"})
    password_sign_in_rest(owner)  # the owner's browser and address become familiar
    attacker = at_password_step(proxied, seed, headers={"X-Forwarded-For": "203.0.113.9"})
    for _ in range(10):
        assert attacker.submit("/login/method/password", password="wrong").status_code == 400
    assert attacker.submit("/login/method/password", password=PASSWORD).status_code == 429
    stranger = at_password_step(proxied, seed, headers={"X-Forwarded-For": "192.0.2.50"})
    assert stranger.submit("/login/method/password", password=PASSWORD).status_code == 429  # unfamiliar too
    owner.http.headers["X-Forwarded-For"] = "192.0.2.77"  # the owner's own browser, on another network
    owner.go(Rp(proxied, seed).authorize_url(prompt="login"))
    owner.submit("/login", username="alice@contoso.test")
    owner.submit("/login/method/password", password=PASSWORD)
    assert "Stay signed in?" in owner.text()
    home = at_password_step(proxied, seed, headers={"X-Forwarded-For": "198.51.100.7"})  # a known address
    home.submit("/login/method/password", password=PASSWORD)
    assert "Stay signed in?" in home.text()


def password_sign_in_rest(agent):
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/kmsi", stay="no")
    assert "code" in agent.redirect_params()


# --- M-5 Host header in e-mailed links, M-6 demo relying party ------------------------------------------


def test_m5_a_forged_host_is_refused_and_links_use_the_configured_base(app, live, seed):
    forged = requests.get(f"{live.url}/contoso.test/login/", headers={"Host": "evil.example"})
    assert forged.status_code == 400 and "evil.example" not in forged.headers.get("Location", "")
    app.config["IDP_BASE_URL"] = "https://login.contoso.example"
    with app.test_request_context("/", base_url="http://localhost:5000"):
        guest = directory.create_user(seed.tenant, "g@partner.example", "G", None)
        from idp.guests import redeem_url

        assert redeem_url(guest).startswith(f"https://login.contoso.example/{seed.tenant.id}/redeem/")


def test_m6_demo_app_exists_only_in_development_mode(app, seed):
    client = app.test_client()
    assert client.get("/_demo/").status_code == 404
    assert client.get("/_demo/callback?state=x&code=y").status_code == 404
    app.config["IDP_DEV_MODE"] = True
    assert client.get("/_demo/").status_code == 200
    assert client.get("/_demo/callback?state=x&code=y", headers={"Host": "evil.example"}).status_code == 400


# --- M-7 user enumeration ---------------------------------------------------------------------------------


def test_m7_tenantless_entry_and_other_ways_answer_alike(app, live, seed):
    from .test_tap_signin import enable_tap, give_tap

    enable_tap(seed.tenant.id)
    give_tap(seed.alice)  # alice now has another way to sign in; nobody has none
    pages = []
    for upn in ("alice@contoso.test", "nobody@contoso.test"):
        agent = Agent(live.url)
        agent.go("/common/login/")
        response = agent.http.post(
            f"{live.url}/common/login/",
            data={"username": upn, "csrf_token": csrf_of(agent)},
            headers={"Referer": live.url + "/common/login/"},
            allow_redirects=False,
        )
        assert response.status_code == 302 and f"/{seed.tenant.id}/login/method/" in response.headers["Location"]
        page = agent.go(f"/{seed.tenant.id}/login/method/password")  # the step both names have
        pages.append((page.url, page.status_code, re.sub(r'value="[^"]*"', "", page.text).replace(upn, "")))
    assert pages[0] == pages[1]
    # a pass is listed to nobody before a factor (a holder is asked for it first, on its own step)
    assert "/login/method/tap" not in pages[0][2]


def test_m7_tenantless_entry_is_rate_limited(app, live, seed):
    from idp.extensions import limiter

    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    limiter.reset()
    try:
        agent = Agent(live.url)
        agent.go("/common/login/")
        token = csrf_of(agent)
        statuses = [
            agent.http.post(
                f"{live.url}/common/login/",
                data={"username": f"u{i}@contoso.test", "csrf_token": token},
                headers={"Referer": live.url + "/common/login/"},
                allow_redirects=False,
            ).status_code
            for i in range(32)
        ]
        assert statuses[-1] == 429 and statuses[0] == 302
    finally:
        limiter.reset()
        limiter.enabled = False


# --- L-4 logout CSRF --------------------------------------------------------------------------------------


def still_signed_in(agent, live, seed) -> bool:
    agent.go(Rp(live, seed).authorize_url(prompt="none"))
    return "code" in agent.redirect_params()


def test_l4_logout_without_a_hint_for_this_browser_asks_first(live, seed):
    rp, agent, token = signed_in(live, seed)
    logout = rp.meta["end_session_endpoint"]
    page = agent.go(logout)  # e.g. an <img> on another site
    assert page.status_code == 200 and "Sign out?" in agent.text()
    assert still_signed_in(agent, live, seed)
    _, other, _ = signed_in(live, seed)  # another browser presents this browser's hint
    other.go(f"{logout}?id_token_hint={token['id_token']}&post_logout_redirect_uri=http://127.0.0.1:9/signed-out")
    assert "Sign out?" in other.text()
    assert still_signed_in(agent, live, seed) and still_signed_in(other, live, seed)
    agent.go(logout)
    agent.submit("", confirm="yes")
    assert "You signed out" in agent.text() and not still_signed_in(agent, live, seed)
    assert still_signed_in(other, live, seed)  # only this browser's session ended
    forged = other.go(logout, "post", {"confirm": "yes"})  # a cross-site POST carries no CSRF token
    assert forged.status_code == 400 and still_signed_in(other, live, seed)


# --- L-5 prompt=login after a sign-in that did not come from an authorization request -------------------


def test_l5_prompt_login_and_max_age_0_after_a_sign_in_of_this_server(live, seed):
    for extra in ({"prompt": "login"}, {"max_age": "0"}):
        agent = Agent(live.url)
        agent.go("/contoso.test/login/")
        password_sign_in(agent, "alice@contoso.test")
        clock.advance(timedelta(seconds=2))
        agent.go(Rp(live, seed).authorize_url(**extra))
        assert "code" not in agent.redirect_params() and "/login" in agent.page.url, extra


# --- L-2 adding a method needs a recent MFA ---------------------------------------------------------------


def test_l2_a_trusted_ip_session_cannot_add_a_method_next_to_a_passkey(app, live, seed, proxied):
    from .authenticator import SoftAuthenticator
    from .test_passkeys import enable_fido2, msi_agent, register
    from .test_tap_signin import enable_tap

    enable_fido2(seed.tenant.id)
    register(msi_agent(live, seed), SoftAuthenticator(), live)  # alice's only MFA method: a passkey
    from .support import enable_method

    enable_method(seed.tenant.id, "SoftwareOath")
    enable_tap(seed.tenant.id)
    configure(seed.tenant.id, "trustedIps", skipMfaForTrustedIps=True, ranges=["81.2.69.0/24"])
    agent = Agent(proxied.url)
    agent.http.headers["X-Forwarded-For"] = "81.2.69.10"
    agent.go("/contoso.test/mysecurityinfo/")
    agent.submit("/login", username="alice@contoso.test")
    agent.go("/contoso.test/login/method/password")
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/kmsi", stay="no")  # MFA waived by the trusted IP
    assert agent.page.url.endswith("/mysecurityinfo/"), agent.page.url
    page = agent.go("/contoso.test/mysecurityinfo/oath/app")
    assert page.status_code == 403 and "sign in again" in agent.text().lower()


# --- L-8 Authentication Administrators and admins' remembered MFA ---------------------------------------


def test_l8_authentication_administrator_cannot_revoke_an_admins_remembered_mfa(app, live, seed):
    directory.create_user(seed.tenant, "aa@contoso.test", "Auth Admin", PASSWORD, [Roles.AUTH_ADMIN])
    db.session.commit()
    agent = Agent(live.url)
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    password_sign_in(agent, "aa@contoso.test")
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    refused = post(agent, f"/contoso.test/admin/users/{seed.admin.id}/revoke-mfa-sessions")
    assert refused.status_code == 403
    db.session.expire_all()
    state = db.session.get(MfaUserState, seed.admin.id)
    assert state is None or state.remember_revoked_at is None
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    post(agent, f"/contoso.test/admin/users/{seed.alice.id}/revoke-mfa-sessions")
    db.session.expire_all()
    assert db.session.get(MfaUserState, seed.alice.id).remember_revoked_at is not None
