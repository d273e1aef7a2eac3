"""A code replay that lands between the first redemption's claim and the tokens it stores: the replay revokes
by `Token.code_id`, so a refresh token the first redemption inserts after that revocation ran must not survive
it (nor the access token it returns)."""

import base64

from idp.oidc.grants import standard

from .support import REDIRECT, Agent, password_sign_in
from .test_oidc_errors import VERIFIER, authorize


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_replay_between_the_claim_and_the_stored_tokens_leaves_nothing_alive(app, seed, live, monkeypatch):
    agent = Agent(live.url)
    agent.go(authorize(live, client_id=seed.client_id, scope="openid offline_access").url)
    password_sign_in(agent, "alice@contoso.test")
    web = basic(seed.client_id, seed.client_secret)
    form = {
        "grant_type": "authorization_code",
        "code": agent.redirect_params()["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    replays = []
    authenticate_user = standard.AuthorizationCodeGrant.authenticate_user

    def replayed_meanwhile(grant, code):
        if not replays:  # the first redemption has claimed the code: the replay runs to its end now
            with app.app_context():
                replays.append(app.test_client().post("/contoso.test/oauth2/v2.0/token", headers=web, data=form))
        return authenticate_user(grant, code)

    monkeypatch.setattr(standard.AuthorizationCodeGrant, "authenticate_user", replayed_meanwhile)
    with app.app_context():
        first = app.test_client().post("/contoso.test/oauth2/v2.0/token", headers=web, data=form)
    assert replays and replays[0].status_code == 400 and replays[0].get_json()["error"] == "invalid_grant"
    if first.status_code != 200:
        assert first.get_json()["error"] == "invalid_grant"  # refused: nothing was issued
        return
    tokens = first.get_json()
    with app.app_context():
        client = app.test_client()
        access = client.post(
            "/contoso.test/oauth2/v2.0/introspect", headers=web, data={"token": tokens["access_token"]}
        )
        assert access.get_json() == {"active": False}, "the first redemption's access token outlived the replay"
        refresh = client.post(
            "/contoso.test/oauth2/v2.0/token",
            headers=web,
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert refresh.status_code == 400, "the first redemption's refresh token outlived the replay"
