"""Entra drop-in, round two (issue 18): claims, multi-tenant authorities, response modes, ROPC, certificate
credentials, the device code and on-behalf-of grants, each through MSAL Python or azure-identity over HTTPS."""

import msal
import requests
from joserfc import jwt


from .support import REDIRECT
from .test_msal_https import _browser_sign_in, _keys, https  # noqa: F401  (fixture)


def _segments(value: str):
    return value.count(".") == 2 and all(value.split("."))


def test_claims_as_entra_issues_them(https, seed):  # noqa: F811
    authority = f"{https.url}/contoso.test"
    public = msal.PublicClientApplication(seed.public_client_id, authority=authority, instance_discovery=False)
    flow = public.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    params = _browser_sign_in(https, flow["auth_uri"])
    assert not _segments(params["code"]) and len(params["code"]) >= 32  # codes are opaque
    result = public.acquire_token_by_auth_code_flow(flow, params)
    access = jwt.decode(result["access_token"], _keys(https)).claims
    assert access["idtyp"] == "user" and access["azp"] == seed.public_client_id and access["azpacr"] == "0"
    assert access["appid"] == seed.public_client_id and access["appidacr"] == "0" and access["ver"] == "2.0"
    assert access["uti"] and access["tid"] == seed.tenant.id
    assert not any(name.startswith("xms_") for name in access)
    assert result["id_token_claims"]["uti"] and result["id_token_claims"]["ver"] == "2.0"
    assert result["id_token_claims"]["uti"] != access["uti"]
    assert not _segments(result["refresh_token"])  # refresh tokens are opaque too

    confidential = msal.ConfidentialClientApplication(
        seed.client_id, client_credential=seed.client_secret, authority=authority, instance_discovery=False
    )
    flow = confidential.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    result = confidential.acquire_token_by_auth_code_flow(flow, _browser_sign_in(https, flow["auth_uri"]))
    access = jwt.decode(result["access_token"], _keys(https)).claims
    assert access["azpacr"] == "1" and access["appidacr"] == "1" and access["idtyp"] == "user"

    daemon = msal.ConfidentialClientApplication(
        seed.app_client_id, client_credential=seed.app_client_secret, authority=authority, instance_discovery=False
    )
    app_only = jwt.decode(
        daemon.acquire_token_for_client(["https://graph.microsoft.com/.default"])["access_token"], _keys(https)
    ).claims
    assert app_only["idtyp"] == "app" and app_only["appidacr"] == "1" and app_only["azpacr"] == "1"
    assert app_only["oid"] == seed.app_client_id and "scp" not in app_only


def test_multi_tenant_authorities(https, seed):  # noqa: F811
    for authority in ("organizations", "common"):
        meta = requests.get(f"{https.url}/{authority}/v2.0/.well-known/openid-configuration", verify=https.ca).json()
        assert meta["issuer"] == f"{https.url}/{{tenantid}}/v2.0"
        assert meta["token_endpoint"] == f"{https.url}/{authority}/oauth2/v2.0/token"
        keys = requests.get(meta["jwks_uri"], verify=https.ca)
        assert keys.status_code == 200 and keys.json()["keys"]
    consumers = requests.get(f"{https.url}/consumers/v2.0/.well-known/openid-configuration", verify=https.ca)
    assert consumers.status_code == 400 and consumers.json()["error"] == "unauthorized_client"
    assert consumers.json()["error_codes"] == [700016] and "consumers" in consumers.json()["error_description"]
    refused = requests.post(
        f"{https.url}/consumers/oauth2/v2.0/token",
        verify=https.ca,
        data={
            "grant_type": "client_credentials",
            "client_id": seed.app_client_id,
            "client_secret": seed.app_client_secret,
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert refused.status_code == 400 and refused.json()["error_codes"] == [700016]
    unknown = requests.post(
        f"{https.url}/organizations/oauth2/v2.0/token",
        verify=https.ca,
        data={
            "grant_type": "client_credentials",
            "client_id": "00000000-0000-0000-0000-000000000001",
            "client_secret": "x",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert unknown.json()["error_codes"] == [700016] and unknown.json()["error"] == "invalid_client"

    app = msal.ConfidentialClientApplication(
        seed.client_id,
        client_credential=seed.client_secret,
        authority=f"{https.url}/organizations",
        instance_discovery=False,
    )
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    assert flow["auth_uri"].startswith(f"{https.url}/organizations/oauth2/v2.0/authorize")
    # a single-tenant app is refused at the tenant-less authorities, to the app, as Entra does
    refused = requests.get(flow["auth_uri"], verify=https.ca, allow_redirects=False).headers["Location"]
    assert "AADSTS50194" in refused and "error=invalid_request" in refused
    _make_multi_tenant(seed.client_id)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    result = app.acquire_token_by_auth_code_flow(flow, _browser_sign_in(https, flow["auth_uri"]))
    assert "access_token" in result, result
    assert result["id_token_claims"]["iss"] == f"{https.url}/{seed.tenant.id}/v2.0"
    assert result["id_token_claims"]["tid"] == seed.tenant.id
    account = app.get_accounts()[0]
    assert account["home_account_id"] == f"{seed.alice.id}.{seed.tenant.id}"
    silent = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert silent and "access_token" in silent, silent


def _make_multi_tenant(client_id):
    from idp.extensions import db
    from idp.oidc.models import Client

    db.session.get(Client, client_id).sign_in_audience = "AzureADMultipleOrgs"
    db.session.commit()


def _fabrikam_user():
    from idp.directory import service as directory
    from idp.extensions import db

    from .support import PASSWORD

    fabrikam = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    user = directory.create_user(fabrikam, "fran@fabrikam.test", "Fran", password=PASSWORD)
    db.session.commit()
    return fabrikam, user


def test_organizations_signs_in_each_user_at_the_tenant_of_their_domain(https, seed):  # noqa: F811
    """Home realm discovery: a multi-tenant app of Contoso, a user of Fabrikam. The UPN's domain picks the
    tenant; the code, the tokens and `iss` are Fabrikam's; MSAL's account is Fabrikam's."""
    from .support import Agent, password_sign_in

    fabrikam, fran = _fabrikam_user()
    _make_multi_tenant(seed.client_id)
    app = msal.ConfidentialClientApplication(
        seed.client_id,
        client_credential=seed.client_secret,
        authority=f"{https.url}/organizations",
        instance_discovery=False,
    )
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(flow["auth_uri"])
    assert "/organizations/login/?request=" in agent.page.url  # who is signing in? (no tenant is known yet)
    password_sign_in(agent, "fran@fabrikam.test")
    params = agent.redirect_params()
    assert params["iss"] == f"{https.url}/{fabrikam.id}/v2.0"  # RFC 9207: the tenant that issued the code
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "access_token" in result, result
    assert result["id_token_claims"]["iss"] == f"{https.url}/{fabrikam.id}/v2.0"
    assert result["id_token_claims"]["tid"] == fabrikam.id and result["id_token_claims"]["oid"] == fran.id
    access = jwt.decode(result["access_token"], _keys(https)).claims
    assert access["tid"] == fabrikam.id and access["iss"] == f"{https.url}/{fabrikam.id}/v2.0"
    # Graph answers for Fran's tenant, never the app's: /me is Fran, the directory is Fabrikam's
    me = requests.get(
        f"{https.url}/v1.0/me", headers={"Authorization": "Bearer " + result["access_token"]}, verify=https.ca
    )
    assert me.status_code == 200 and me.json()["id"] == fran.id
    account = app.get_accounts()[0]
    assert account["home_account_id"] == f"{fran.id}.{fabrikam.id}"
    silent = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert silent and jwt.decode(silent["access_token"], _keys(https)).claims["tid"] == fabrikam.id

    # a login_hint in a known domain goes straight to that tenant's first step
    hinted = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, login_hint="fran@fabrikam.test")
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(hinted["auth_uri"])
    assert agent.page.url.startswith(f"{https.url}/{fabrikam.id}/login/method/")
    # app-only tokens stay the app's own tenant's: the multi-tenant app gets none at Fabrikam
    _make_multi_tenant(seed.app_client_id)
    for tenant, expected in ((seed.tenant.id, 200), (fabrikam.id, 401)):
        app_only = requests.post(
            f"{https.url}/{tenant}/oauth2/v2.0/token",
            verify=https.ca,
            data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
            auth=(seed.app_client_id, seed.app_client_secret),
        )
        assert app_only.status_code == expected, app_only.text
    assert app_only.json()["error"] == "invalid_client" and app_only.json()["error_codes"] == [700016]


def test_on_behalf_of_keeps_the_user_and_the_sign_in_cap(https, seed):  # noqa: F811
    from datetime import timedelta

    from idp import clock
    from idp.extensions import db
    from idp.oidc.clients import create_client
    from idp.signin.models import SigninSession

    api, api_secret = create_client(
        seed.tenant, "Files API", [], grants=["client_credentials"], exposed_scopes=["Files.Read"]
    )
    db.session.commit()
    web, web_secret = create_client(seed.tenant, "Files web", [REDIRECT], scopes=[f"api://{api.id}/Files.Read"])
    db.session.commit()
    authority = f"{https.url}/contoso.test"
    front = msal.ConfidentialClientApplication(
        web.id, client_credential=web_secret, authority=authority, instance_discovery=False
    )
    flow = front.initiate_auth_code_flow([f"api://{api.id}/Files.Read"], redirect_uri=REDIRECT)
    user_token = front.acquire_token_by_auth_code_flow(flow, _browser_sign_in(https, flow["auth_uri"]))["access_token"]
    middle = msal.ConfidentialClientApplication(
        api.id, client_credential=api_secret, authority=authority, instance_discovery=False
    )
    result = middle.acquire_token_on_behalf_of(user_token, ["User.Read"])
    assert "access_token" in result, result
    downstream = jwt.decode(result["access_token"], _keys(https)).claims
    upstream = jwt.decode(user_token, _keys(https)).claims
    assert downstream["aud"] == "https://graph.microsoft.com" and downstream["scp"] == "User.Read"
    assert downstream["oid"] == seed.alice.id and downstream["azp"] == api.id and downstream["sid"] == upstream["sid"]
    # a token for another app, an app-only token, or a scope the API was not granted: refused
    assert middle.acquire_token_on_behalf_of(result["access_token"], ["User.Read"])["error_codes"] == [50013]
    app_only = middle.acquire_token_for_client([f"api://{api.id}/.default"])["access_token"]
    fresh = msal.ConfidentialClientApplication(
        api.id, client_credential=api_secret, authority=authority, instance_discovery=False
    )
    assert fresh.acquire_token_on_behalf_of(app_only, ["User.Read"])["error_codes"] == [50013]
    assert fresh.acquire_token_on_behalf_of(user_token, ["Directory.ReadWrite.All"])["error_codes"] == [65001]
    # a sign-in with a hard cap (as a TAP's): the downstream token cannot outlive it
    session = db.session.get(SigninSession, upstream["sid"])
    session.not_after = clock.now() + timedelta(minutes=7)
    db.session.commit()
    capped = msal.ConfidentialClientApplication(
        api.id, client_credential=api_secret, authority=authority, instance_discovery=False
    ).acquire_token_on_behalf_of(user_token, ["User.Read"])
    assert capped["expires_in"] <= 7 * 60, capped
    assert jwt.decode(capped["access_token"], _keys(https)).claims["exp"] <= clock.to_epoch(session.not_after)
    clock.advance(timedelta(minutes=8))
    ended = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/token",
        verify=https.ca,
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "requested_token_use": "on_behalf_of",
            "assertion": user_token,
            "scope": "User.Read",
            "client_id": api.id,
            "client_secret": api_secret,
        },
    ).json()
    assert ended["error"] == "invalid_grant", ended
