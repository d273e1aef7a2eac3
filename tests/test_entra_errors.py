"""Entra's error answers (AADSTS codes, trace and correlation ids), as MSAL and azure-identity see them."""

import re
import uuid
from datetime import timedelta

import msal
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from idp import clock

from .support import REDIRECT, Agent, password_sign_in
from .test_msal_https import https  # noqa: F401  (fixture)

STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")


def assert_entra_shape(body: dict, code: int, error: str, correlation: str | None = None):
    assert body["error"] == error, body
    assert body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body
    assert f"Trace ID: {body['trace_id']}" in body["error_description"]
    assert STAMP.fullmatch(body["timestamp"]) and uuid.UUID(body["trace_id"])
    assert uuid.UUID(body["correlation_id"])
    if correlation:
        assert body["correlation_id"] == correlation
    assert body["error_uri"].endswith(f"/error?code={code}")


def token(base, tenant="contoso.test", headers=None, **form):
    return requests.post(f"{base}/{tenant}/oauth2/v2.0/token", data=form, headers=headers or {})


def test_unknown_app_and_bad_secret_echo_the_client_request_id(live, seed):
    sent = str(uuid.uuid4())
    unknown = token(
        live.url,
        headers={"client-request-id": sent},
        grant_type="client_credentials",
        client_id=str(uuid.uuid4()),
        client_secret="x",
        scope="https://graph.microsoft.com/.default",
    )
    assert unknown.status_code in (400, 401)
    assert_entra_shape(unknown.json(), 700016, "invalid_client", correlation=sent)
    assert (
        unknown.headers["client-request-id"] == sent
        and unknown.headers["x-ms-request-id"] == unknown.json()["trace_id"]
    )
    bad = token(
        live.url,
        grant_type="client_credentials",
        client_id=seed.app_client_id,
        client_secret="wrong",
        scope="https://graph.microsoft.com/.default",
    )
    assert_entra_shape(bad.json(), 7000215, "invalid_client")
    missing = token(
        live.url,
        grant_type="client_credentials",
        client_id=seed.app_client_id,
        scope="https://graph.microsoft.com/.default",
    )
    assert_entra_shape(missing.json(), 7000218, "invalid_client")
    page = requests.get(bad.json()["error_uri"])
    assert page.status_code == 200 and "InvalidClientSecretProvided" in page.text


def test_bad_scope_malformed_request_and_unsupported_grant(live, seed):
    scope = token(
        live.url,
        grant_type="client_credentials",
        client_id=seed.app_client_id,
        client_secret=seed.app_client_secret,
        scope="User.Read",
    )
    assert_entra_shape(scope.json(), 70011, "invalid_scope")
    malformed = token(
        live.url,
        grant_type="client_credentials",
        client_id=seed.app_client_id,
        client_secret=seed.app_client_secret,
        scope="bad\u0001scope",
    )
    assert_entra_shape(malformed.json(), 9002313, "invalid_request")
    missing = token(
        live.url, grant_type="authorization_code", client_id=seed.client_id, client_secret=seed.client_secret
    )
    assert_entra_shape(missing.json(), 90014, "invalid_request")
    grant = token(live.url, grant_type="urn:example:nothing", client_id=seed.client_id)
    assert_entra_shape(grant.json(), 70003, "unsupported_grant_type")


def _code(live, seed, scope="openid offline_access User.Read"):
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    agent = Agent(live.url)
    agent.go(
        f"/contoso.test/oauth2/v2.0/authorize?client_id={seed.client_id}&response_type=code"
        f"&redirect_uri={REDIRECT}&scope={scope}&code_challenge={create_s256_code_challenge('v' * 64)}"
        "&code_challenge_method=S256"
    )
    password_sign_in(agent, "alice@contoso.test")
    return agent.redirect_params()["code"]


def test_code_redeemed_twice_and_refresh_token_expired_or_revoked(live, seed):
    form = dict(
        grant_type="authorization_code",
        client_id=seed.client_id,
        client_secret=seed.client_secret,
        redirect_uri=REDIRECT,
        code_verifier="v" * 64,
    )
    code = _code(live, seed)
    first = token(live.url, code=code, **form)
    assert first.status_code == 200, first.text
    assert_entra_shape(token(live.url, code=code, **form).json(), 54005, "invalid_grant")
    # the replay revoked what the first redemption issued: its refresh token is now revoked
    revoked = token(
        live.url,
        grant_type="refresh_token",
        client_id=seed.client_id,
        client_secret=seed.client_secret,
        refresh_token=first.json()["refresh_token"],
    )
    assert_entra_shape(revoked.json(), 50173, "invalid_grant")
    expired_code = _code(live, seed)
    fresh = token(live.url, code=_code(live, seed), **form).json()
    clock.advance(timedelta(minutes=30))
    assert_entra_shape(token(live.url, code=expired_code, **form).json(), 70008, "invalid_grant")
    clock.advance(timedelta(days=120))
    stale = token(
        live.url,
        grant_type="refresh_token",
        client_id=seed.client_id,
        client_secret=seed.client_secret,
        refresh_token=fresh["refresh_token"],
    )
    assert_entra_shape(stale.json(), 700082, "invalid_grant")


def test_authorize_errors_carry_the_code_and_trace_id(live, seed):
    page = requests.get(
        f"{live.url}/contoso.test/oauth2/v2.0/authorize",
        params={
            "client_id": seed.client_id,
            "response_type": "code",
            "redirect_uri": "https://evil.example/cb",
            "scope": "openid",
            "code_challenge": "a" * 43,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    assert page.status_code == 400 and "AADSTS50011" in page.text
    assert re.search(r"Trace ID</dt><dd><code>[0-9a-f-]{36}</code>", page.text)
    unknown = requests.get(
        f"{live.url}/contoso.test/oauth2/v2.0/authorize",
        params={"client_id": str(uuid.uuid4()), "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid"},
    )
    assert unknown.status_code == 400 and "AADSTS700016" in unknown.text
    from urllib.parse import parse_qs, urlsplit

    back = requests.get(
        f"{live.url}/contoso.test/oauth2/v2.0/authorize",
        params={
            "client_id": seed.client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "state": "s1",
            "scope": "openid Directory.ReadWrite.All",
            "code_challenge": "a" * 43,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["Location"]).query).items()}
    assert params["error_description"].startswith("AADSTS65001: ") and params["state"] == "s1"
    assert uuid.UUID(params["trace_id"]) and params["error_codes"] == "65001"


def test_msal_and_azure_identity_surface_the_codes(https, seed):  # noqa: F811
    app = msal.ConfidentialClientApplication(
        seed.app_client_id,
        client_credential="not-the-secret",
        authority=f"{https.url}/{seed.tenant.id}",
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert_entra_shape(result, 7000215, "invalid_client")
    credential = ClientSecretCredential(
        seed.tenant.id, seed.app_client_id, "not-the-secret", authority=https.url, disable_instance_discovery=True
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token("https://graph.microsoft.com/.default")
    good = ClientSecretCredential(
        seed.tenant.id, seed.app_client_id, seed.app_client_secret, authority=https.url, disable_instance_discovery=True
    )
    assert good.get_token("https://graph.microsoft.com/.default").token.count(".") == 2


def test_refresh_with_the_default_scope_as_msal_resends_it(https, seed):  # noqa: F811
    """MSAL-style clients resend `<resource>/.default` on refresh; Entra accepts it (issue 18, point 9)."""
    form = dict(client_id=seed.client_id, client_secret=seed.client_secret)
    agent = Agent(https.url)
    agent.http.verify = https.ca
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    agent.go(
        f"/contoso.test/oauth2/v2.0/authorize?client_id={seed.client_id}&response_type=code"
        f"&redirect_uri={REDIRECT}&scope=openid offline_access User.Read"
        f"&code_challenge={create_s256_code_challenge('v' * 64)}&code_challenge_method=S256"
    )
    password_sign_in(agent, "alice@contoso.test")
    first = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/token",
        verify=https.ca,
        data=dict(
            grant_type="authorization_code",
            code=agent.redirect_params()["code"],
            redirect_uri=REDIRECT,
            code_verifier="v" * 64,
            **form,
        ),
    ).json()
    refreshed = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/token",
        verify=https.ca,
        data=dict(
            grant_type="refresh_token",
            refresh_token=first["refresh_token"],
            scope="https://graph.microsoft.com/.default openid offline_access",
            **form,
        ),
    )
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert "User.Read" in body["scope"].split() and body["refresh_token"] and body["id_token"]
    again = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/token",
        verify=https.ca,
        data=dict(grant_type="refresh_token", refresh_token=body["refresh_token"], scope="User.Read", **form),
    )
    assert again.status_code == 200 and again.json()["refresh_token"], again.text
    wider = requests.post(
        f"{https.url}/contoso.test/oauth2/v2.0/token",
        verify=https.ca,
        data=dict(
            grant_type="refresh_token",
            refresh_token=again.json()["refresh_token"],
            scope="Directory.ReadWrite.All",
            **form,
        ),
    )
    assert_entra_shape(wider.json(), 65001, "invalid_scope")


def test_an_expired_secret_is_told_apart(live, seed):
    from idp.extensions import db
    from idp.oidc import applications
    from idp.oidc.models import Client

    client = db.session.get(Client, seed.app_client_id)
    secret = applications.add_password(client, {"displayName": "CI"})["secretText"]
    end = clock.iso(clock.now() + timedelta(days=1))  # a secret that ends tomorrow
    client.password_credentials = [{**c, "endDateTime": end} for c in client.password_credentials]
    db.session.commit()
    form = {
        "grant_type": "client_credentials",
        "client_id": seed.app_client_id,
        "client_secret": secret,
        "scope": "https://graph.microsoft.com/.default",
    }
    assert token(live.url, **form).status_code == 200
    clock.advance(timedelta(days=2))
    assert_entra_shape(token(live.url, **form).json(), 7000222, "invalid_client")
    assert_entra_shape(token(live.url, **{**form, "client_secret": "not-it"}).json(), 7000215, "invalid_client")


def test_prompt_none_without_a_session(live, seed):
    from urllib.parse import parse_qs, urlsplit

    back = requests.get(
        f"{live.url}/contoso.test/oauth2/v2.0/authorize",
        params={
            "client_id": seed.client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "prompt": "none",
            "state": "s2",
            "code_challenge": "a" * 43,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["Location"]).query).items()}
    assert params["error"] == "login_required" and params["error_codes"] == "50058", params
    assert params["error_description"].startswith("AADSTS50058: ") and params["state"] == "s2"
