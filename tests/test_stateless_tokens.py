"""Stateless access tokens: nothing stored per grant, and every revocation still reaches them (Graph API,
userinfo, introspection) through the revocation state; across processes within the stated bound."""

import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, insert, select

from idp import clock
from idp.directory.models import User
from idp.extensions import db
from idp.oidc.models import Client, Token, TokenRevocation

from .test_caches_and_budget import app_only, counted, no_poll_due
from .test_oidc_flow import Rp, introspect, signed_in


def me(seed):
    return f"/v1.0/users/{seed.alice.id}"  # a user may read themselves


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_client_credentials_write_nothing_and_the_token_works(app, seed):
    no_poll_due(app)
    http = app.test_client()
    app_only(http, seed)  # the client is cached now
    before = db.session.scalar(select(func.count()).select_from(Token))
    with counted() as statements:
        response = app_only(http, seed)
    assert response.status_code == 200 and statements == []  # no INSERT, no BEGIN/COMMIT
    assert db.session.scalar(select(func.count()).select_from(Token)) == before
    users = http.get("/v1.0/users", headers=bearer(response.json["access_token"]))
    assert users.status_code == 200


def test_a_grant_without_offline_access_stores_no_token(live, seed):
    before = db.session.scalar(select(func.count()).select_from(Token))
    rp, _, token = signed_in(live, seed, scope="openid profile")
    assert "refresh_token" not in token
    assert db.session.scalar(select(func.count()).select_from(Token)) == before
    assert introspect(rp, seed, token["access_token"])["active"] is True


def test_revoking_one_access_token_leaves_the_rest_of_its_grant(live, seed):
    rp, _, token = signed_in(live, seed, scope="openid profile email offline_access User.Read")
    clock.advance(timedelta(seconds=2))  # a later `iat`: the refreshed token is a different one
    refreshed = rp.session.refresh_token(  # the scopes resent, as MSAL does: a narrower request gets less
        rp.meta["token_endpoint"], refresh_token=token["refresh_token"], scope=token["scope"]
    )
    revoked = requests.post(
        rp.meta["revocation_endpoint"],
        auth=(seed.client_id, seed.client_secret),
        data={"token": token["access_token"], "token_type_hint": "access_token"},
    )
    assert revoked.status_code == 200
    assert introspect(rp, seed, token["access_token"])["active"] is False
    assert requests.get(rp.meta["userinfo_endpoint"], headers=bearer(token["access_token"])).status_code == 401
    assert requests.get(live.url + me(seed), headers=bearer(token["access_token"])).status_code == 401
    assert introspect(rp, seed, refreshed["access_token"])["active"] is True
    assert requests.get(live.url + me(seed), headers=bearer(refreshed["access_token"])).status_code == 200


def test_sign_out_cuts_off_graph_userinfo_and_introspection_at_once(live, seed):
    rp, agent, token = signed_in(live, seed, scope="openid profile email offline_access User.Read")
    access = token["access_token"]
    assert requests.get(live.url + me(seed), headers=bearer(access)).status_code == 200
    assert requests.get(rp.meta["userinfo_endpoint"], headers=bearer(access)).json()["email"] == "alice@contoso.test"
    agent.go(f"{rp.meta['end_session_endpoint']}?id_token_hint={token['id_token']}")
    assert requests.get(live.url + me(seed), headers=bearer(access)).status_code == 401
    assert requests.get(rp.meta["userinfo_endpoint"], headers=bearer(access)).status_code == 401
    assert introspect(rp, seed, access)["active"] is False


def test_deleting_the_client_or_the_user_voids_their_tokens(app, seed, live):
    http = app.test_client()
    app_token = app_only(http, seed).json["access_token"]
    rp, _, token = signed_in(live, seed, scope="openid profile User.Read")
    assert http.get("/v1.0/users", headers=bearer(app_token)).status_code == 200
    db.session.delete(db.session.get(Client, seed.app_client_id))
    db.session.commit()
    assert http.get("/v1.0/users", headers=bearer(app_token)).status_code == 401
    user_token = token["access_token"]
    assert introspect(rp, seed, user_token)["active"] is True
    db.session.delete(db.session.get(User, seed.alice.id))
    db.session.commit()
    assert introspect(rp, seed, user_token)["active"] is False


def test_a_revocation_recorded_by_another_process_is_seen_within_the_sync_interval(app, seed, live):
    """Another process writes only the table; this one must see it on its next poll, within
    IDP_REVOCATION_SYNC_SECONDS (0.5 s), with no database read per token in between."""
    rp, _, token = signed_in(live, seed, scope="openid profile User.Read")
    access = token["access_token"]
    from joserfc import jwt

    sid = jwt.decode(access, rp.keyset()).claims["sid"]
    assert introspect(rp, seed, access)["active"] is True
    now = clock.now()
    db.session.execute(
        insert(TokenRevocation).values(
            subject=f"session:{sid}", not_before=now, recorded_at=now, expires_at=now + timedelta(hours=2)
        )
    )
    db.session.commit()
    written = time.monotonic()
    while introspect(rp, seed, access)["active"]:
        assert time.monotonic() - written < app.config["IDP_REVOCATION_SYNC_SECONDS"] + 0.5
        time.sleep(0.05)


def test_checking_a_token_reads_nothing_between_polls(app, seed):
    http = app.test_client()
    token = app_only(http, seed).json["access_token"]
    auth = {
        "Authorization": "Basic "
        + __import__("base64").b64encode(f"{seed.client_id}:{seed.client_secret}".encode()).decode()
    }
    assert http.post("/contoso.test/oauth2/v2.0/introspect", headers=auth, data={"token": token}).json["active"]
    app.config["IDP_REVOCATION_SYNC_SECONDS"] = 60  # no poll due during the measurement
    with counted() as statements:
        answer = http.post(
            "/contoso.test/oauth2/v2.0/introspect",
            headers=auth,
            data={"token": token, "token_type_hint": "access_token"},
        )
    assert answer.json["active"] is True and statements == []


def test_forged_or_foreign_tokens_are_refused(app, seed, live):
    """A token must be ours (signature), complete and current: any other claim set is not enough."""
    from idp.oidc import tokens

    http = app.test_client()
    token = app_only(http, seed).json["access_token"]
    with app.test_request_context():
        claims = tokens.decode(token)
        incomplete = tokens.sign({k: v for k, v in claims.items() if k != "iat"}, "RS256")
        expired = tokens.sign({**claims, "exp": clock.timestamp() - 60}, "RS256")
    for bad in (token[:-4] + "AAAA", incomplete, expired):
        assert http.get("/v1.0/users", headers=bearer(bad)).status_code == 401


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_every_process_sees_a_revocation_within_one_second(app, seed, tmp_path):
    """Sign-out on server A; server B refuses the access token at Graph, userinfo and introspection for every
    request that begins 1 s or more after the sign-out answered (the bound: the 0.5 s poll and its query)."""
    from .servers import ServerProcess
    from .support import Agent, password_sign_in

    servers = [ServerProcess(app, tmp_path / "a"), ServerProcess(app, tmp_path / "b")]
    try:
        a, b = servers
        rp = Rp(type("Live", (), {"url": a.url}), seed, scope="openid profile offline_access User.Read")
        agent = Agent(a.url)
        agent.go(rp.authorize_url())
        password_sign_in(agent, "alice@contoso.test")
        token = rp.redeem(agent)
        access = token["access_token"]
        checks = {
            "graph": lambda: requests.get(b.url + me(seed), headers=bearer(access), timeout=10).status_code == 200,
            "userinfo": lambda: (
                requests.get(f"{b.url}/contoso.test/oidc/userinfo", headers=bearer(access), timeout=10).status_code
                == 200
            ),
            "introspection": lambda: requests.post(
                f"{b.url}/contoso.test/oauth2/v2.0/introspect",
                data={"token": access},
                auth=(seed.client_id, seed.client_secret),
                timeout=10,
            ).json()["active"],
        }
        assert all(check() for check in checks.values())  # B has polled and knows nothing against it
        agent.go(f"{a.url}/contoso.test/oauth2/v2.0/logout?id_token_hint={token['id_token']}")
        revoked_at = time.monotonic()
        for name, check in checks.items():
            while True:
                started = time.monotonic() - revoked_at
                if not check():
                    break
                assert started < 1.0, f"{name} on the other process still accepted the token {started:.2f} s after"
                time.sleep(0.02)
    finally:
        for server in servers:
            server.stop()
