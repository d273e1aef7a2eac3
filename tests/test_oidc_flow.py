"""The whole OpenID Connect flow through a real OIDC client library (Authlib's OAuth2Session) against a
live server: discovery, PKCE, sign-in through the HTML pages, tokens, userinfo, refresh, revocation,
introspection, logout, prompt and max_age."""

from datetime import timedelta

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from idp import clock

from .support import REDIRECT, Agent, password_sign_in


class Rp:
    """A relying party built on Authlib's client."""

    def __init__(self, live, seed, public=False, scope="openid profile email offline_access"):
        self.base = live.url
        self.meta = requests.get(f"{live.url}/contoso.test/v2.0/.well-known/openid-configuration").json()
        self.client_id = seed.public_client_id if public else seed.client_id
        self.session = OAuth2Session(
            self.client_id,
            None if public else seed.client_secret,
            scope=scope,
            redirect_uri=REDIRECT,
            token_endpoint_auth_method="none" if public else "client_secret_basic",
        )
        self.verifier = generate_token(64)
        self.nonce = generate_token(16)

    def authorize_url(self, **extra):
        url, self.state = self.session.create_authorization_url(
            self.meta["authorization_endpoint"],
            nonce=self.nonce,
            code_challenge=create_s256_code_challenge(self.verifier),
            code_challenge_method="S256",
            **extra,
        )
        return url

    def redeem(self, agent):
        params = agent.redirect_params()
        assert params.get("state") == self.state, params
        return self.session.fetch_token(self.meta["token_endpoint"], code=params["code"], code_verifier=self.verifier)

    def keyset(self):
        return KeySet.import_key_set(requests.get(self.meta["jwks_uri"]).json())

    def id_claims(self, token):
        return jwt.decode(token["id_token"], self.keyset()).claims


def signed_in(live, seed, public=False, **extra):
    rp = Rp(live, seed, public)
    agent = Agent(live.url)
    agent.go(rp.authorize_url(**extra))
    password_sign_in(agent, "alice@contoso.test")
    return rp, agent, rp.redeem(agent)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_code_flow_with_pkce_id_token_and_userinfo(live, seed):
    rp, agent, token = signed_in(live, seed)
    issuer = f"{live.url}/{seed.tenant.id}/v2.0"
    assert rp.meta["issuer"] == issuer
    assert agent.redirect_params()["iss"] == issuer  # RFC 9207
    claims = rp.id_claims(token)
    assert claims["iss"] == issuer and claims["aud"] == seed.client_id
    assert claims["nonce"] == rp.nonce
    assert claims["oid"] == seed.alice.id and claims["tid"] == seed.tenant.id
    assert claims["preferred_username"] == "alice@contoso.test"
    assert claims["name"] == "Alice Example" and claims["email"] == "alice@contoso.test"
    assert claims["amr"] == ["pwd"] and claims["acr"] == "sfa"
    assert abs(claims["auth_time"] - clock.timestamp()) < 60
    assert claims["at_hash"]
    assert token["token_type"].lower() == "bearer" and token["refresh_token"]
    info = rp.session.get(rp.meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["email"] == "alice@contoso.test"


def test_scopes_decide_the_claims(live, seed):
    rp = Rp(live, seed, scope="openid")
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    password_sign_in(agent, "alice@contoso.test")
    token = rp.redeem(agent)
    claims = rp.id_claims(token)
    assert "email" not in claims and "name" not in claims
    assert "refresh_token" not in token  # refresh tokens only with offline_access, as in Entra


def test_public_client_code_flow(live, seed):
    rp, agent, token = signed_in(live, seed, public=True)
    assert rp.id_claims(token)["aud"] == seed.public_client_id


def test_refresh_rotates_and_reuse_revokes_the_family(live, seed):
    rp, agent, token = signed_in(live, seed)
    first_refresh = token["refresh_token"]
    refreshed = rp.session.refresh_token(rp.meta["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["refresh_token"] != first_refresh
    assert rp.id_claims(refreshed)["oid"] == seed.alice.id
    # the rotated token presented again: refused, and the newer token of the family dies with it
    replay = requests.post(
        rp.meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first_refresh},
        auth=(seed.client_id, seed.client_secret),
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    newer = requests.post(
        rp.meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        auth=(seed.client_id, seed.client_secret),
    )
    assert newer.json()["error"] == "invalid_grant"
    assert introspect(rp, seed, refreshed["access_token"])["active"] is False


def introspect(rp, seed, token, hint=None):
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    return requests.post(rp.meta["introspection_endpoint"], data=data, auth=(seed.client_id, seed.client_secret)).json()


@pytest.mark.parametrize("ended", ["revoked", "past its hard cap"])
def test_a_refresh_token_of_an_ended_session_introspects_inactive(live, seed, ended):
    from sqlalchemy import update

    from idp.extensions import db
    from idp.signin.models import SigninSession

    rp, agent, token = signed_in(live, seed)
    assert introspect(rp, seed, token["refresh_token"], "refresh_token")["active"] is True
    change = {"revoked_at": clock.now()} if ended == "revoked" else {"not_after": clock.now() - timedelta(seconds=1)}
    db.session.execute(update(SigninSession).values(**change))  # as another process would: no cache to clear
    db.session.commit()
    assert introspect(rp, seed, token["refresh_token"], "refresh_token")["active"] is False
    assert introspect(rp, seed, token["refresh_token"])["active"] is False


def test_introspection_and_revocation(live, seed):
    rp, agent, token = signed_in(live, seed)
    active = introspect(rp, seed, token["access_token"])
    assert active["active"] is True and active["client_id"] == seed.client_id and active["oid"] == seed.alice.id
    assert introspect(rp, seed, token["refresh_token"], "refresh_token")["active"] is True
    assert introspect(rp, seed, "not-a-token")["active"] is False
    revoked = requests.post(
        rp.meta["revocation_endpoint"],
        data={"token": token["refresh_token"]},
        auth=(seed.client_id, seed.client_secret),
    )
    assert revoked.status_code == 200
    assert introspect(rp, seed, token["refresh_token"])["active"] is False
    assert introspect(rp, seed, token["access_token"])["active"] is False  # the whole grant ends
    assert rp.session.get(rp.meta["userinfo_endpoint"]).status_code == 401


def test_authorization_code_works_once_and_replay_revokes(live, seed):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    password_sign_in(agent, "alice@contoso.test")
    code = agent.redirect_params()["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": rp.verifier}
    first = requests.post(rp.meta["token_endpoint"], data=form, auth=(seed.client_id, seed.client_secret))
    assert first.status_code == 200
    second = requests.post(rp.meta["token_endpoint"], data=form, auth=(seed.client_id, seed.client_secret))
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert introspect(rp, seed, first.json()["access_token"])["active"] is False


def test_sso_and_prompt_none_and_max_age(live, seed):
    rp, agent, _ = signed_in(live, seed)
    # a second request in the same browser is answered from the SSO session
    agent.go(rp.authorize_url(prompt="none"))
    assert "code" in agent.redirect_params()
    # max_age: an old sign-in needs a new one
    clock.advance(timedelta(minutes=10))
    agent.go(rp.authorize_url(max_age="60"))
    assert "/login" in agent.page.url
    # prompt=none without a session: login_required, sent back to the client with iss
    other = Agent(live.url)
    other.go(rp.authorize_url(prompt="none"))
    params = other.redirect_params()
    assert params["error"] == "login_required" and params["state"] == rp.state and params["iss"]


def test_prompt_login_forces_a_new_sign_in(live, seed):
    rp, agent, _ = signed_in(live, seed)
    agent.go(rp.authorize_url(prompt="login"))
    assert "/login" in agent.page.url
    password_sign_in(agent, "alice@contoso.test")
    token = rp.redeem(agent)
    assert rp.id_claims(token)["auth_time"] >= clock.timestamp() - 5


def test_logout_ends_session_and_redirects_exactly(live, seed):
    rp, agent, token = signed_in(live, seed)
    logout = rp.meta["end_session_endpoint"]
    agent.go(
        f"{logout}?id_token_hint={token['id_token']}&post_logout_redirect_uri=http://127.0.0.1:9/signed-out&state=s1"
    )
    assert agent.location == "http://127.0.0.1:9/signed-out?state=s1"
    agent.go(rp.authorize_url(prompt="none"))
    assert agent.redirect_params()["error"] == "login_required"
    assert introspect(rp, seed, token["access_token"])["active"] is False
    # an unregistered post-logout URI is never followed
    rp2, agent2, token2 = signed_in(live, seed)
    agent2.go(f"{logout}?id_token_hint={token2['id_token']}&post_logout_redirect_uri=https://evil.example/")
    assert agent2.page.status_code == 200 and "You signed out" in agent2.text()


def test_client_credentials_token(live, seed):
    rp = Rp(live, seed)
    response = requests.post(
        rp.meta["token_endpoint"],
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        auth=(seed.app_client_id, seed.app_client_secret),
    )
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], rp.keyset()).claims
    assert claims["roles"] == ["User.Read.All"] and claims["tid"] == seed.tenant.id and claims["ver"] == "2.0"
    assert "refresh_token" not in response.json()
