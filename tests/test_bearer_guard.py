"""One bearer guard for the admin API and userinfo: the same reading of `Authorization: Bearer` and the same
RFC 6750 challenge on a refusal, each endpoint answering in its own dialect."""

import pytest
import requests

from .support import app_client, app_token

REFUSED_HEADERS = [
    {},
    {"Authorization": "Basic YWxpY2U6cGFzcw=="},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer    "},
    {"Authorization": "Bearer not-a-token"},
]


@pytest.mark.parametrize("headers", REFUSED_HEADERS)
def test_both_endpoints_refuse_alike_with_the_challenge(live, seed, headers):
    graph = requests.get(f"{live.url}/v1.0/users", headers=headers)
    userinfo = requests.get(f"{live.url}/{seed.tenant.id}/oidc/userinfo", headers=headers)
    for response in (graph, userinfo):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert graph.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert userinfo.json()["error"] == "invalid_token"
    token_sent = headers.get("Authorization", "").startswith("Bearer not")
    expected = "Access token has expired or is not yet valid." if token_sent else "Access token is empty."
    assert graph.json()["error"]["message"] == expected


def test_the_scheme_is_case_insensitive_and_a_valid_token_passes(live, seed):
    token = app_token(live.url, "contoso.test", *app_client(seed.tenant, ["User.Read.All"]))
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = requests.get(f"{live.url}/v1.0/users", headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, response.text[:300]
        assert "WWW-Authenticate" not in response.headers
    # an app's token has no user: userinfo refuses it through the same guard
    userinfo = requests.get(f"{live.url}/{seed.tenant.id}/oidc/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert userinfo.status_code == 401 and userinfo.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
