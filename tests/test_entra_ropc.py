"""ROPC (grant_type=password) as Entra allows it: off by default per app, Entra's refusals, the pages' limits."""

import msal
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import UsernamePasswordCredential

from idp.directory import service as directory
from idp.extensions import db
from idp.oidc.models import Client

from .support import PASSWORD, Agent, REDIRECT
from .test_msal_https import _keys, https  # noqa: F401  (fixture)
from .test_strengths import with_totp


@pytest.fixture(autouse=True)
def _no_realm_discovery_on_port_443():
    """MSAL asks https://<host>/common/userrealm/ on port 443 whatever the authority's port; the test server
    has another port, so MSAL is told (as README says) to skip it for localhost."""
    from msal.authority import Authority

    Authority._domains_without_user_realm_discovery.add("localhost")
    yield
    Authority._domains_without_user_realm_discovery.discard("localhost")


def enable_ropc(client_id):
    db.session.get(Client, client_id).ropc_enabled = True
    db.session.commit()


def ropc(https, client_id, username, password, **extra):  # noqa: F811
    return requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/token",
        verify=https.ca,
        data={
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password,
            "scope": "openid User.Read",
            **extra,
        },
    ).json()


def test_off_by_default_then_tokens_for_a_user_without_mfa(https, seed):  # noqa: F811
    app = msal.PublicClientApplication(
        seed.public_client_id, authority=f"{https.url}/contoso.test", instance_discovery=False
    )
    refused = app.acquire_token_by_username_password("alice@contoso.test", PASSWORD, scopes=["User.Read"])
    assert refused["error"] == "unauthorized_client" and refused["error_codes"] == [7000112], refused
    enable_ropc(seed.public_client_id)
    app = msal.PublicClientApplication(
        seed.public_client_id, authority=f"{https.url}/contoso.test", instance_discovery=False
    )  # a new one: MSAL replays a refused request
    result = app.acquire_token_by_username_password("alice@contoso.test", PASSWORD, scopes=["User.Read"])
    assert "access_token" in result, result
    assert result["id_token_claims"]["oid"] == seed.alice.id and result["id_token_claims"]["amr"] == ["pwd"]
    from joserfc import jwt

    access = jwt.decode(result["access_token"], _keys(https)).claims
    assert access["scp"] == "User.Read" and access["azpacr"] == "0" and access["idtyp"] == "user"
    assert app.acquire_token_silent(["User.Read"], account=app.get_accounts()[0], force_refresh=True)["access_token"]
    # a confidential client where enabled, with azure-identity's credential
    enable_ropc(seed.client_id)
    credential = UsernamePasswordCredential(
        seed.client_id,
        "alice@contoso.test",
        PASSWORD,
        tenant_id="contoso.test",
        client_credential=seed.client_secret,
        authority=https.url,
        disable_instance_discovery=True,
    )
    assert credential.get_token("User.Read").token.count(".") == 2
    wrong = UsernamePasswordCredential(
        seed.client_id,
        "alice@contoso.test",
        "wrong",
        tenant_id="contoso.test",
        client_credential=seed.client_secret,
        authority=https.url,
        disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS50126"):
        wrong.get_token("User.Read")


def test_user_realm_says_managed(https, seed):  # noqa: F811
    realm = requests.get(f"{https.url}/common/userrealm/alice@contoso.test?api-version=1.0", verify=https.ca).json()
    assert realm["account_type"] == "Managed" and realm["domain_name"] == "contoso.test"
    assert (
        requests.get(f"{https.url}/common/userrealm/x@elsewhere.example", verify=https.ca).json()["account_type"]
        == "Unknown"
    )


def test_entra_refusals(https, seed):  # noqa: F811
    enable_ropc(seed.public_client_id)
    assert ropc(https, seed.public_client_id, "alice@contoso.test", "wrong")["error_codes"] == [50126]
    assert ropc(https, seed.public_client_id, "nobody@contoso.test", PASSWORD)["error_codes"] == [50126]
    bob = directory.create_user(seed.tenant, "bob@contoso.test", "Bob", PASSWORD)
    bob.account_enabled = False
    db.session.commit()
    disabled = ropc(https, seed.public_client_id, "bob@contoso.test", PASSWORD)
    assert disabled["error"] == "invalid_grant" and disabled["error_codes"] == [50057]
    guest = directory.create_user(seed.tenant, "guest_fabrikam.test#EXT#@contoso.test", "Guest", PASSWORD)
    guest.user_type, guest.mail = "Guest", "guest@fabrikam.test"
    db.session.commit()
    assert ropc(https, seed.public_client_id, "guest@fabrikam.test", PASSWORD)["error_codes"] == [50020]
    with_totp(seed.alice)  # a registered second factor: MFA is required, so no password-only tokens
    mfa = ropc(https, seed.public_client_id, "alice@contoso.test", PASSWORD)
    assert mfa["error"] == "invalid_grant" and mfa["error_codes"] == [50076], mfa
    assert mfa["error_description"].startswith("AADSTS50076: ")
    from idp.policy import strengths

    db.session.get(Client, seed.public_client_id).required_strength_id = strengths.MFA
    db.session.commit()
    enrol = ropc(https, seed.public_client_id, "admin@contoso.test", PASSWORD)  # must register MFA first
    assert enrol["error_codes"] == [50079], enrol


def test_counted_by_the_password_page_limit(https, seed, app):  # noqa: F811
    from idp.extensions import limiter

    enable_ropc(seed.public_client_id)
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    limiter.reset()
    try:
        for _ in range(10):
            assert ropc(https, seed.public_client_id, "alice@contoso.test", "wrong")["error_codes"] == [50126]
        locked = ropc(https, seed.public_client_id, "alice@contoso.test", PASSWORD)
        assert locked["error_codes"] == [50053], locked  # even the right password waits
        agent = Agent(https.url)
        agent.http.verify = https.ca
        agent.go(
            f"/contoso.test/oauth2/v2.0/authorize?client_id={seed.client_id}&response_type=code"
            f"&redirect_uri={REDIRECT}&scope=openid&code_challenge={'a' * 43}&code_challenge_method=S256"
        )
        agent.submit("/login", username="alice@contoso.test")
        agent.submit("/login/method/password", password=PASSWORD)
        assert agent.page.status_code == 429  # the page counts the grant's failures, and the other way round
        assert "access_token" in ropc(https, seed.public_client_id, "admin@contoso.test", PASSWORD)
    finally:
        limiter.reset()
        limiter.enabled = False
