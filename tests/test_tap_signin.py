"""Signing in with a Temporary Access Pass: a strong credential whose end caps everything it signed in."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from joserfc import jwt

from idp import clock
from idp.directory import service as directory
from idp.extensions import db
from idp.methods.tap import service as tap_service
from idp.policy import service as policy
from idp.signin.models import SigninSession

from .support import PASSWORD, Agent, enable_method, forms
from .test_oidc_flow import Rp, introspect


def enable_tap(tenant_id, **settings):
    enable_method(tenant_id, "TemporaryAccessPass", **settings)


def give_tap(user, **kwargs):
    tap, code = tap_service.create(user, None, **kwargs)
    db.session.commit()
    return tap, code


def tap_sign_in(agent, upn, code, stay="no"):
    agent.submit("/login", username=upn)
    if "/login/method/tap" not in agent.page.url:
        agent.go(agent.page.url.rsplit("/method/", 1)[0] + "/method/tap")
    agent.submit("/login/method/tap", tap=code)
    if "/login/kmsi" in agent.page.url:
        agent.submit("/login/kmsi", stay=stay)
    return agent


def start(live, seed):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    return rp, agent


def test_tap_is_a_strong_credential_and_the_password_keeps_working(live, seed):
    enable_tap(seed.tenant.id)
    _, code = give_tap(seed.alice, lifetime=120)
    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", code)
    token = rp.redeem(agent)
    claims = rp.id_claims(token)
    assert "tap" in claims["amr"] and "mfa" in claims["amr"] and claims["acr"] == "mfa"
    # the password is unchanged and still signs in
    rp2, agent2 = start(live, seed)
    agent2.submit("/login", username="alice@contoso.test")
    agent2.go(agent2.page.url.rsplit("/method/", 1)[0] + "/method/password")
    agent2.submit("/login/method/password", password=PASSWORD)
    agent2.submit("/login/kmsi", stay="no")
    assert "code" in agent2.redirect_params()


def test_a_live_pass_is_the_first_step_and_the_password_is_offered(live, seed):
    """As in Entra, a holder is asked for the pass first; the password stays under "Other ways"."""
    enable_tap(seed.tenant.id)
    give_tap(seed.alice)
    rp, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    assert agent.page.url.endswith("/login/method/tap")
    assert "/login/method/password" in agent.page.text  # under "Other ways to sign in"


def assert_pass_not_offered(agent):
    """A dead pass is never offered: the step is the password, and the TAP step sends the browser back."""
    assert agent.page.url.endswith("/login/method/password"), agent.page.url
    assert "/login/method/tap" not in agent.page.text
    agent.go(agent.page.url.replace("/method/password", "/method/tap"))
    assert agent.page.url.endswith("/login/method/password")


def test_tap_first_when_it_is_the_only_method(live, seed):
    enable_tap(seed.tenant.id)
    newcomer = directory.create_user(seed.tenant, "new@contoso.test", "Newcomer")
    db.session.commit()
    _, code = give_tap(newcomer)
    rp, agent = start(live, seed)
    agent.submit("/login", username="new@contoso.test")
    assert agent.page.url.endswith("/login/method/tap")
    assert 'autocomplete="one-time-code"' in agent.page.text
    agent.submit("/login/method/tap", tap=code)
    agent.submit("/login/kmsi", stay="no")
    assert "code" in agent.redirect_params()


def test_every_token_and_the_session_end_with_the_tap(live, seed):
    enable_tap(seed.tenant.id, minimumLifetimeInMinutes=10)
    tap, code = give_tap(seed.alice, lifetime=30)
    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", code, stay="yes")
    token = rp.redeem(agent)
    end = clock.to_epoch(tap.ends_at)
    id_claims = rp.id_claims(token)
    access_claims = jwt.decode(token["access_token"], rp.keyset()).claims
    assert id_claims["exp"] <= end and access_claims["exp"] <= end
    assert token["expires_in"] <= 30 * 60
    assert introspect(rp, seed, token["refresh_token"], "refresh_token")["exp"] <= end
    cookie = next(c for c in agent.http.cookies if c.name.startswith("idp_sso_"))
    assert cookie.expires <= end + 1  # "stay signed in" never outlives the pass
    # just before the end all is well; a refresh now yields tokens still capped at the end
    clock.advance(timedelta(minutes=20))
    refreshed = rp.session.refresh_token(rp.meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert rp.id_claims(refreshed)["exp"] <= end and refreshed["expires_in"] <= 10 * 60 + 5
    # past the end: refresh refused, introspection inactive, the browser must sign in again
    clock.advance(timedelta(minutes=11))
    response = requests.post(
        rp.meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        auth=(seed.client_id, seed.client_secret),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "expired" in response.json()["error_description"]
    assert introspect(rp, seed, refreshed["access_token"])["active"] is False
    agent.go(rp.authorize_url(prompt="none"))
    assert agent.redirect_params()["error"] == "login_required"


def test_deleting_the_tap_ends_everything_at_once(live, seed):
    enable_tap(seed.tenant.id)
    tap, code = give_tap(seed.alice)
    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", code)
    token = rp.redeem(agent)
    assert introspect(rp, seed, token["access_token"])["active"] is True
    tap_service.remove(db.session.get(type(tap), tap.id))
    db.session.commit()
    assert introspect(rp, seed, token["access_token"])["active"] is False
    response = requests.post(
        rp.meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(seed.client_id, seed.client_secret),
    )
    assert response.json()["error"] == "invalid_grant" and "deleted" in response.json()["error_description"]
    agent.go(rp.authorize_url(prompt="none"))
    assert agent.redirect_params()["error"] == "login_required"
    # and the deleted pass is no longer offered; its code is refused without blaming anyone
    rp2, agent2 = start(live, seed)
    agent2.submit("/login", username="alice@contoso.test")
    assert_pass_not_offered(agent2)
    outcome = tap_service.sign_in(seed.alice, code)
    assert not outcome.ok and "deleted" in outcome.message and "administrator" not in outcome.message.split(".")[0]


def test_each_step_reads_the_live_pass_with_its_transaction(live, seed):
    """The pass comes in the step's one joined load (no query of its own), and is read afresh by every step:
    a pass deleted between two steps of one sign-in is not offered at the next."""
    from .test_caches_and_budget import counted

    enable_tap(seed.tenant.id)
    tap, _ = give_tap(seed.alice)
    _, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    assert agent.page.url.endswith("/login/method/tap"), agent.page.url
    with counted() as statements:
        agent.go(agent.page.url)
    assert agent.page.url.endswith("/login/method/tap") and 'name="tap"' in agent.page.text
    assert any("JOIN temporary_access_pass" in statement for statement in statements), statements
    assert not any(statement.startswith("SELECT temporary_access_pass.") for statement in statements), statements
    tap_service.remove(db.session.get(type(tap), tap.id))
    db.session.commit()
    agent.go(agent.page.url.replace("/method/tap", "/method/password"))
    assert_pass_not_offered(agent)


@pytest.mark.parametrize(
    "shift,fragment", [(timedelta(minutes=61), "expired"), (timedelta(minutes=-1), "not valid yet")]
)
def test_expired_and_not_yet_valid_passes_are_not_offered_and_say_which(live, seed, shift, fragment):
    enable_tap(seed.tenant.id)
    if shift < timedelta(0):
        _, code = give_tap(seed.alice, start=clock.iso(clock.now() + timedelta(minutes=30)))
    else:
        _, code = give_tap(seed.alice)
        clock.advance(shift)
    rp, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    assert_pass_not_offered(agent)
    outcome = tap_service.sign_in(seed.alice, code)
    assert not outcome.ok and fragment in outcome.message


def test_wrong_code(live, seed):
    enable_tap(seed.tenant.id)
    give_tap(seed.alice)
    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", "WRONGCODE")
    assert "not correct" in agent.text()


def test_one_time_pass_works_once(live, seed):
    enable_tap(seed.tenant.id)
    _, code = give_tap(seed.alice, usable_once=True)
    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", code)
    assert "code" in agent.redirect_params()
    rp2, agent2 = start(live, seed)
    agent2.submit("/login", username="alice@contoso.test")
    assert_pass_not_offered(agent2)
    assert "already been used" in tap_service.sign_in(seed.alice, code).message


def test_multi_use_pass_refused_once_policy_requires_one_time(live, seed):
    """One rule decides: sign-in, the sign-in's offer, Graph's isUsable, the console and My Security Info."""
    from idp.methods.tap.api import graph_tap

    enable_tap(seed.tenant.id)
    tap, code = give_tap(seed.alice, usable_once=False)
    enable_tap(seed.tenant.id, isUsableOnce=True)
    rp, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    assert_pass_not_offered(agent)
    assert "only one-time" in tap_service.sign_in(seed.alice, code).message
    with live_request(live):
        body = graph_tap(tap, seed.alice)
    assert body["isUsable"] is False and body["methodUsabilityReason"] == "DisabledByPolicy"


def test_users_outside_the_policy_cannot_sign_in_with_a_pass(live, seed):
    group = directory.create_group(seed.tenant, "Pilot")
    db.session.commit()
    enable_tap(seed.tenant.id)
    config = policy.get(seed.tenant.id, "TemporaryAccessPass")
    config.include_targets = [{"id": group.id, "targetType": "group"}]
    policy.save(seed.tenant.id, config)
    db.session.commit()
    _, code = give_tap(seed.alice)  # may be created for anyone...
    rp, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    # ...but cannot be used outside the targets: the first step lists the tenant's methods for every name
    # alike (issue 14, M-7), and choosing the pass leads back to the password
    agent.go(agent.page.url.replace("/method/password", "/method/tap"))
    assert agent.page.url.endswith("/method/password")
    directory.add_member(group, seed.alice)
    config.exclude_targets = [{"id": group.id, "targetType": "group"}]  # exclusion wins over inclusion
    policy.save(seed.tenant.id, config)
    db.session.commit()
    assert not policy.applies_to(seed.tenant.id, "TemporaryAccessPass", seed.alice)


def live_request(live):
    from flask import current_app

    return current_app.test_request_context("/v1.0/")


def prepared_attempts(live, seed, count, upn="alice@contoso.test"):
    """`count` browsers each standing on the TAP step, ready to submit."""
    agents = []
    for _ in range(count):
        rp, agent = start(live, seed)
        agent.submit("/login", username=upn)
        agent.go(agent.page.url.rsplit("/method/", 1)[0] + "/method/tap")
        agents.append(agent)
    return agents


def submit_tap(agent, code):
    form = next(f for f in forms(agent.page.text) if "/method/tap" in f["action"])
    response = agent.http.post(agent.page.url, data={**form["fields"], "tap": code}, allow_redirects=False)
    return response.status_code == 302 and "/login/kmsi" in response.headers["Location"]


def test_fifty_concurrent_uses_of_a_one_time_pass_succeed_once_sqlite(live, seed):
    enable_tap(seed.tenant.id)
    _, code = give_tap(seed.alice, usable_once=True)
    agents = prepared_attempts(live, seed, 50)
    barrier = threading.Barrier(50)

    def attempt(agent):
        barrier.wait(timeout=60)
        return submit_tap(agent, code)

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(attempt, agents))
    assert results.count(True) == 1


def test_registration_deadline_hook(app, seed):
    enable_tap(seed.tenant.id)
    once, _ = give_tap(seed.alice, usable_once=True, lifetime=120)
    session = SigninSession(
        tenant_id=seed.tenant.id,
        user_id=seed.alice.id,
        auth_time=clock.now(),
        methods=["tap"],
        credential_ref=once.id,
        expires_at=clock.now() + timedelta(hours=1),
    )
    assert tap_service.registration_deadline(session) == session.auth_time + timedelta(minutes=10)
    multi, _ = give_tap(seed.alice, usable_once=False, lifetime=120)
    session.credential_ref = multi.id
    assert tap_service.registration_deadline(session) == multi.ends_at
    session.methods = ["password"]
    assert tap_service.registration_deadline(session) is None


# --- issue 15: one rule for usability, MFA blocks, shared validation, texts -------------------------------


def test_a_dead_pass_never_becomes_the_second_step_and_an_app_comes_before_a_live_one(live, seed):
    from .test_strengths import with_totp

    enable_tap(seed.tenant.id)
    with_totp(seed.alice)
    _, code = give_tap(seed.alice, usable_once=True)
    assert tap_service.sign_in(seed.alice, code).ok  # used up
    _, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    assert agent.page.url.endswith("/login/method/oath") and "/login/method/tap" not in agent.page.text
    give_tap(seed.alice)  # a live pass: still the authenticator app first at the second step
    _, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    agent.go(agent.page.url.rsplit("/method/", 1)[0] + "/method/password")
    agent.submit("/login/method/password", password=PASSWORD)
    assert agent.page.url.endswith("/login/method/oath")


def test_an_mfa_block_refuses_a_pass_too(live, seed):
    from idp.mfa import blocks

    enable_tap(seed.tenant.id)
    _, code = give_tap(seed.alice)
    blocks.block(seed.alice, "Lost device", "admin@contoso.test")
    db.session.commit()
    _, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    assert "blocked from multifactor authentication" in agent.text()
    form = next(f for f in forms(agent.page.text) if "/method/tap" in f["action"])
    agent.go(form["action"], "post", {**form["fields"], "tap": code})
    assert "blocked from multifactor authentication" in agent.text() and "/login/kmsi" not in agent.page.url
    assert tap_service.live_pass(seed.alice.id) is not None


def console_tap(live, seed, **fields):
    from .test_console_and_securityinfo import console

    admin = console(live, "admin@contoso.test", path=f"/contoso.test/admin/users/{seed.alice.id}")
    form = next(f for f in forms(admin.page.text) if f["action"].endswith("/tap"))
    return admin.go(form["action"], "post", {**form["fields"], **fields})


@pytest.mark.parametrize(
    "fields,fragment,words",
    [
        ({"start": "9999-12-31T23:59", "lifetime": "60"}, "startDateTime", "The start is too far ahead."),
        ({"lifetime": "0"}, "lifetimeInMinutes", "The lifetime must be 60 to 480 minutes"),
        ({"lifetime": "-5"}, "lifetimeInMinutes", "The lifetime must be 60 to 480 minutes"),
    ],
)
def test_the_console_refuses_what_the_api_refuses(live, seed, graph_as, fields, fragment, words):
    """The same refusal: the API names the property, the page says it in plain words."""
    enable_tap(seed.tenant.id)
    response = console_tap(live, seed, **fields)
    assert response.status_code == 400 and words in response.text and fragment not in response.text
    body = {"startDateTime": fields["start"] + ":00Z"} if "start" in fields else {}
    body["lifetimeInMinutes"] = int(fields["lifetime"])
    api = graph_as("ga")("POST", f"/users/{seed.alice.id}/authentication/temporaryAccessPassMethods", body)
    assert api.status_code == 400 and fragment in api.json()["error"]["message"]
    assert db.session.scalar(db.select(tap_service.TemporaryAccessPass)) is None


def test_texts_a_member_own_pass_and_the_banner_after_a_used_one_time_pass(live, seed, graph_as):
    enable_tap(seed.tenant.id)
    own = graph_as("bob")("POST", "/users/bob@contoso.test/authentication/temporaryAccessPassMethods", {})
    assert own.status_code == 403 and "Administrators" not in own.json()["error"]["message"]
    newcomer = directory.create_user(seed.tenant, "new@contoso.test", "Newcomer")
    db.session.commit()
    _, code = give_tap(newcomer, usable_once=True)
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/")
    tap_sign_in(agent, "new@contoso.test", code)
    assert "OneTimeUsed" in agent.text() and "only way to sign in" not in agent.text()  # the pass is used up
    assert "no way to sign in again" in agent.text()


def test_a_pass_message_with_its_date_reads_in_the_page_language(app, seed):
    """The message keeps its English text (logs, Graph) and reads in Japanese on a Japanese page, with the
    date in that locale."""
    from idp.i18n import translate

    enable_tap(seed.tenant.id)
    tap, _ = give_tap(seed.alice)
    clock.advance(timedelta(minutes=61))
    try:
        message = tap_service.check(tap, seed.alice).message
    finally:
        clock.reset()
    assert message.startswith("This Temporary Access Pass expired on ") and message.endswith("a new one.")
    from flask_babel import refresh

    with app.test_request_context(headers={"Accept-Language": "ja"}):
        refresh()  # the locale is chosen per request, from Accept-Language here
        japanese = translate(message)
    assert "期限切れ" in japanese and f"{tap.ends_at:%Y/%m/%d}" in japanese and "expired" not in japanese
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        assert translate(message).startswith("This Temporary Access Pass expired on")
