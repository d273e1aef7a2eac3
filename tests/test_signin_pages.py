"""The sign-in pages: UPN, password, stay signed in, errors that reveal nothing, CSRF, logs."""

from datetime import timedelta

import requests
from sqlalchemy import select

from idp import clock
from idp.audit.models import SignInLog
from idp.extensions import db

from .support import PASSWORD, Agent, forms, password_sign_in
from .test_oidc_errors import authorize


def start(live, seed):
    agent = Agent(live.url)
    agent.go(authorize(live, client_id=seed.client_id).url)
    return agent


def test_pages_carry_standard_autocomplete_and_labels(live, seed):
    agent = start(live, seed)
    assert 'autocomplete="username webauthn"' in agent.page.text and '<label for="username">' in agent.page.text
    agent.submit("/login", username="alice@contoso.test")
    assert 'autocomplete="current-password"' in agent.page.text and '<label for="password">' in agent.page.text


def test_unknown_user_and_wrong_password_look_the_same(live, seed):
    agent = start(live, seed)
    agent.submit("/login", username="nobody@contoso.test")
    assert "Enter password" in agent.text()  # no "user not found" page
    agent.submit("/login/method/password", password="guess")
    unknown = agent.text()
    other = start(live, seed)
    other.submit("/login", username="alice@contoso.test")
    other.submit("/login/method/password", password="wrong")
    assert other.page.status_code == agent.page.status_code == 400
    assert (
        "Your account or password is incorrect." in unknown and "Your account or password is incorrect." in other.text()
    )


def test_disabled_account_is_refused_after_the_password(live, seed):
    seed.alice.account_enabled = False
    db.session.commit()
    agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    assert "Your account has been locked. Contact your support person to unlock it, then try again." in agent.text()


def test_every_form_carries_csrf_and_posts_without_it_fail(live, seed):
    agent = start(live, seed)
    assert all("csrf_token" in f["fields"] for f in forms(agent.page.text))
    response = agent.http.post(f"{live.url}/contoso.test/login/", data={"username": "alice@contoso.test"})
    assert response.status_code == 400 and "CSRF" in response.text


def test_transaction_expires(live, seed):
    agent = start(live, seed)
    clock.advance(timedelta(minutes=61))
    agent.submit("/login", username="alice@contoso.test")
    assert agent.page.status_code == 400 and "timed out" in agent.text()


def test_cancel_returns_access_denied_to_the_client(live, seed):
    agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/cancel")
    assert agent.redirect_params()["error"] == "access_denied"


def test_stay_signed_in_sets_a_persistent_cookie(live, seed):
    agent = start(live, seed)
    password_sign_in(agent, "alice@contoso.test", stay="yes")
    cookie = next(c for c in agent.http.cookies if c.name.startswith("idp_sso_"))
    assert cookie.expires and cookie.expires > clock.timestamp() + 80 * 86400
    assert cookie.has_nonstandard_attr("HttpOnly")
    other = start(live, seed)
    password_sign_in(other, "alice@contoso.test", stay="no")
    cookie = next(c for c in other.http.cookies if c.name.startswith("idp_sso_"))
    assert cookie.expires is None  # a browser-session cookie


def test_sign_in_log_records_success_and_failure(live, seed):
    agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password="wrong")
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/kmsi", stay="no")
    db.session.expire_all()
    rows = db.session.scalars(select(SignInLog).order_by(SignInLog.created_at)).all()
    assert [(r.result, r.failure_reason) for r in rows][0] == ("failure", "invalid password")
    success = rows[-1]
    assert success.result == "success" and success.user_id == seed.alice.id and success.client_id == seed.client_id
    assert success.methods == ["password"] and success.ip == "127.0.0.1" and success.tenant_id == seed.tenant.id


def test_security_headers_on_sign_in_pages(live, seed):
    agent = start(live, seed)
    headers = agent.page.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    token = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "client_credentials"},
        auth=(seed.app_client_id, seed.app_client_secret),
    )
    assert token.headers["Cache-Control"] == "no-store"


def test_domain_and_tenant_id_both_address_the_tenant(live, seed):
    for ref in ("contoso.test", "contoso.example", seed.tenant.id, seed.tenant.id.upper()):
        meta = requests.get(f"{live.url}/{ref}/v2.0/.well-known/openid-configuration").json()
        assert meta["issuer"] == f"{live.url}/{seed.tenant.id}/v2.0"


def test_failed_sign_ins_are_limited_per_account_and_per_ip(live, seed, app):
    from idp.extensions import limiter

    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)  # the test config turns limits off; this test turns them on for its app
    limiter.reset()
    try:
        for _ in range(2):  # two browsers, one account: the limit follows the account
            agent = start(live, seed)
            agent.submit("/login", username="alice@contoso.test")
            for _ in range(5):
                agent.submit("/login/method/password", password="wrong")
                assert agent.page.status_code == 400
        agent.submit("/login/method/password", password="wrong")
        assert agent.page.status_code == 429 and "Too many attempts" in agent.text()
        agent.go("/contoso.test/login/method/password")
        agent.submit("/login/method/password", password=PASSWORD)  # even the right password waits
        assert agent.page.status_code == 429
        other = start(live, seed)  # another account is not affected
        password_sign_in(other, "admin@contoso.test")
        assert "code" in other.redirect_params()
    finally:
        limiter.reset()
        limiter.enabled = False


def test_every_state_changing_form_on_every_page_carries_csrf(live, seed):
    """Crawl the pages people use (sign-in, My Security Info, the console) and check every POST form; a POST
    without the token is refused on each kind of state-changing endpoint."""
    from .test_passkeys import enable_fido2
    from .test_tap_signin import enable_tap

    enable_fido2(seed.tenant.id)
    enable_tap(seed.tenant.id)
    agent = start(live, seed)
    pages = [agent.page.text]
    password_sign_in(agent, "admin@contoso.test")
    for path in (
        "/contoso.test/mysecurityinfo/",
        "/contoso.test/admin/",
        f"/contoso.test/admin/users/{seed.alice.id}",
        "/contoso.test/admin/policies/Fido2",
        "/contoso.test/admin/policies/TemporaryAccessPass",
        "/contoso.test/admin/mfa",
        "/contoso.test/admin/oath/tokens",
        "/contoso.test/admin/passkeys/metadata",
    ):
        page = agent.go(path)
        assert page.status_code == 200, path
        pages.append(page.text)
    post_forms = [f for text in pages for f in forms(text) if f["method"].lower() == "post"]
    assert len(post_forms) >= 15
    assert all("csrf_token" in f["fields"] for f in post_forms), [
        f["action"] for f in post_forms if "csrf_token" not in f["fields"]
    ]
    for path in (
        "/contoso.test/admin/mfa/settings/accountLockout",
        "/contoso.test/admin/mfa/block",
        f"/contoso.test/admin/users/{seed.alice.id}/revoke-mfa-sessions",
        "/contoso.test/login/report",
    ):
        response = agent.http.post(
            f"{live.url}{path}", data={"upn": "alice@contoso.test", "reason": "x"}, headers={"Referer": live.url + path}
        )
        assert response.status_code == 400 and "CSRF" in response.text, path
