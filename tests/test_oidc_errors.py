"""Every bad input to the OIDC endpoints gets its exact error, and never a redirect to an unregistered URI."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from idp import clock

from .support import REDIRECT, Agent, password_sign_in

VERIFIER = "v" * 64


def authorize(live, **params):
    base = {
        "client_id": None,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "st",
        "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    base.update(params)
    query = {k: v for k, v in base.items() if v is not None}
    return requests.get(f"{live.url}/contoso.test/oauth2/v2.0/authorize", params=query, allow_redirects=False)


def error_of(response):
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_unknown_client_is_shown_not_redirected(live, seed):
    response = authorize(live, client_id="00000000-0000-0000-0000-000000000000")
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_client" in response.text


def test_client_of_another_tenant_is_unknown_here(live, seed, app):
    from idp.directory import service as directory
    from idp.extensions import db
    from idp.oidc.clients import create_client

    other = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    client, _ = create_client(other, "Fabrikam app", [REDIRECT])
    db.session.commit()
    response = authorize(live, client_id=client.id)
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://127.0.0.1:9/CALLBACK",
        "https://evil.example/callback",
        "javascript:alert(1)",
    ],
)
def test_redirect_uri_must_match_exactly(live, seed, uri):
    response = authorize(live, client_id=seed.client_id, redirect_uri=uri)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "not supported by client" in response.text


def test_missing_redirect_uri_with_single_registration_uses_it(live, seed):
    response = authorize(live, client_id=seed.client_id, redirect_uri=None)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_public_client_without_pkce_is_refused(live, seed):
    params = error_of(authorize(live, client_id=seed.public_client_id, code_challenge=None, code_challenge_method=None))
    assert params["error"] == "invalid_request" and "PKCE is required" in params["error_description"]
    assert params["state"] == "st" and params["iss"].endswith(f"/{seed.tenant.id}/v2.0")


def test_plain_pkce_is_refused(live, seed):
    params = error_of(authorize(live, client_id=seed.client_id, code_challenge="a" * 43, code_challenge_method="plain"))
    assert params["error"] == "invalid_request" and "S256" in params["error_description"]
    params = error_of(authorize(live, client_id=seed.client_id, code_challenge_method=None))
    assert params["error"] == "invalid_request"  # an omitted method would mean plain


def test_unsupported_response_type(live, seed):
    params = error_of(authorize(live, client_id=seed.client_id, response_type="token"))
    assert params["error"] == "unsupported_response_type"


def test_scope_the_client_may_not_request(live, seed):
    params = error_of(authorize(live, client_id=seed.client_id, scope="openid Directory.ReadWrite.All"))
    assert params["error"] == "invalid_scope"


def test_duplicate_parameters_are_refused(live, seed):
    url = (
        f"{live.url}/contoso.test/oauth2/v2.0/authorize?client_id={seed.client_id}&response_type=code"
        f"&redirect_uri={REDIRECT}&state=a&state=b"
    )
    response = requests.get(url, allow_redirects=False)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.headers["Location"].startswith(REDIRECT) and "invalid_request" in response.headers["Location"]


def test_unknown_tenant_is_404(live, seed):
    response = requests.get(f"{live.url}/nowhere.test/v2.0/.well-known/openid-configuration")
    assert response.status_code == 404 and "nowhere.test" in response.text


def code_for(live, seed, client_id=None):
    agent = Agent(live.url)
    response = authorize(live, client_id=client_id or seed.client_id)
    agent.go(response.url)
    password_sign_in(agent, "alice@contoso.test")
    return agent.redirect_params()["code"]


def token_request(live, data, auth=None):
    return requests.post(f"{live.url}/contoso.test/oauth2/v2.0/token", data=data, auth=auth)


def test_wrong_code_verifier(live, seed):
    code = code_for(live, seed)
    response = token_request(
        live,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": "w" * 64},
        (seed.client_id, seed.client_secret),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_expired_code(live, seed):
    code = code_for(live, seed)
    clock.advance(timedelta(minutes=6))
    response = token_request(
        live,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER},
        (seed.client_id, seed.client_secret),
    )
    assert response.json()["error"] == "invalid_grant"


def test_code_redeemed_with_other_redirect_uri(live, seed):
    code = code_for(live, seed)
    response = token_request(
        live,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/other",
            "code_verifier": VERIFIER,
        },
        (seed.client_id, seed.client_secret),
    )
    assert response.json()["error"] == "invalid_grant"


def test_wrong_client_secret(live, seed):
    response = token_request(live, {"grant_type": "client_credentials"}, (seed.app_client_id, "wrong"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_public_client_cannot_use_client_credentials(live, seed):
    response = token_request(live, {"grant_type": "client_credentials", "client_id": seed.public_client_id})
    assert response.status_code in (400, 401) and response.json()["error"] in ("invalid_client", "unauthorized_client")


def test_unknown_grant_type(live, seed):
    response = token_request(
        live,
        {"grant_type": "urn:example:unknown", "username": "a", "password": "b"},
        (seed.client_id, seed.client_secret),
    )
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    # ROPC is known but off unless the app registration turns it on (tests/test_entra_ropc.py)
    response = token_request(
        live, {"grant_type": "password", "username": "a", "password": "b"}, (seed.client_id, seed.client_secret)
    )
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"grant_type": ""},
        {"grant_type": "authorization_code"},
        {"grant_type": "authorization_code", "code": "x" * 5000},
        {"grant_type": "refresh_token"},
        {"grant_type": "refresh_token", "refresh_token": "\x00"},
    ],
)
def test_malformed_token_requests_are_4xx(live, seed, data):
    response = token_request(live, data, (seed.client_id, seed.client_secret))
    assert 400 <= response.status_code < 500 and "error" in response.json()


def test_malformed_introspection_and_revocation(live, seed):
    for endpoint in ("introspect", "revoke"):
        response = requests.post(
            f"{live.url}/contoso.test/oauth2/v2.0/{endpoint}", data={}, auth=(seed.client_id, seed.client_secret)
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        response = requests.post(f"{live.url}/contoso.test/oauth2/v2.0/{endpoint}", data={"token": "x"})
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_logout_with_forged_id_token_hint(live, seed):
    response = requests.get(
        f"{live.url}/contoso.test/oauth2/v2.0/logout",
        params={
            "id_token_hint": "eyJhbGciOiJub25lIn0.e30.",
            "post_logout_redirect_uri": "http://127.0.0.1:9/signed-out",
        },
        allow_redirects=False,
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_userinfo_without_token(live, seed):
    response = requests.get(f"{live.url}/contoso.test/oidc/userinfo")
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_control_characters_in_parameters_are_refused_not_a_500(live, seed):
    # found by the fuzz test: Authlib rejects its own error description built from such a value
    response = authorize(live, client_id="", redirect_uri="", response_type="\x1f")
    assert response.status_code == 400 and "response_type" in response.text
    token = token_request(live, {"grant_type": "\x07"}, (seed.client_id, seed.client_secret))
    assert token.status_code == 400 and token.json()["error"] == "invalid_request"
