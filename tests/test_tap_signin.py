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
    agent2.submit("/login/method/password", password=PASSWORD)
    agent2.submit("/login/kmsi", stay="no")
    assert "code" in agent2.redirect_params()


def test_password_is_the_default_step_and_tap_is_offered(live, seed):
    enable_tap(seed.tenant.id)
    give_tap(seed.alice)
    rp, agent = start(live, seed)
    agent.submit("/login", username="alice@contoso.test")
    assert agent.page.url.endswith("/login/method/password")
    assert "Temporary Access Pass" in agent.text()  # under "Other ways to sign in"


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
    response = requests.post(rp.meta["token_endpoint"], data={"grant_type": "refresh_token",
                                                             "refresh_token": refreshed["refresh_token"]},
                             auth=(seed.client_id, seed.client_secret))
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
    response = requests.post(rp.meta["token_endpoint"], data={"grant_type": "refresh_token",
                                                             "refresh_token": token["refresh_token"]},
                             auth=(seed.client_id, seed.client_secret))
    assert response.json()["error"] == "invalid_grant" and "deleted" in response.json()["error_description"]
    agent.go(rp.authorize_url(prompt="none"))
    assert agent.redirect_params()["error"] == "login_required"
    # and signing in with it again says why
    rp2, agent2 = start(live, seed)
    tap_sign_in(agent2, "alice@contoso.test", code)
    assert "deleted" in agent2.text() and agent2.page.status_code == 400


@pytest.mark.parametrize("shift,fragment", [(timedelta(minutes=61), "expired"), (timedelta(minutes=-1), "not valid yet")])
def test_expired_and_not_yet_valid_passes_say_which(live, seed, shift, fragment):
    enable_tap(seed.tenant.id)
    if shift < timedelta(0):
        _, code = give_tap(seed.alice, start=clock.iso(clock.now() + timedelta(minutes=30)))
    else:
        _, code = give_tap(seed.alice)
        clock.advance(shift)
    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", code)
    assert fragment in agent.text() and agent.page.status_code == 400


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
    tap_sign_in(agent2, "alice@contoso.test", code)
    assert "already been used" in agent2.text()


def test_multi_use_pass_refused_once_policy_requires_one_time(live, seed):
    enable_tap(seed.tenant.id)
    _, code = give_tap(seed.alice, usable_once=False)
    enable_tap(seed.tenant.id, isUsableOnce=True)
    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", code)
    assert "only one-time" in agent.text() and agent.page.status_code == 400


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
    assert "Temporary Access Pass" not in agent.text()  # ...but is not offered outside the targets
    agent.go(agent.page.url.replace("/method/password", "/method/tap"))
    assert agent.page.url.endswith("/method/password")
    directory.add_member(group, seed.alice)
    config.exclude_targets = [{"id": group.id, "targetType": "group"}]  # exclusion wins over inclusion
    policy.save(seed.tenant.id, config)
    db.session.commit()
    assert not policy.applies_to(seed.tenant.id, "TemporaryAccessPass", seed.alice)


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
    session = SigninSession(tenant_id=seed.tenant.id, user_id=seed.alice.id, auth_time=clock.now(), methods=["tap"],
                            credential_ref=once.id, expires_at=clock.now() + timedelta(hours=1))
    assert tap_service.registration_deadline(session) == session.auth_time + timedelta(minutes=10)
    multi, _ = give_tap(seed.alice, usable_once=False, lifetime=120)
    session.credential_ref = multi.id
    assert tap_service.registration_deadline(session) == multi.ends_at
    session.methods = ["password"]
    assert tap_service.registration_deadline(session) is None
