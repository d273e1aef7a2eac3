"""Drop-in for Entra ID: the real `msal` package against a live HTTPS server trusting the generated CA."""

import os
import stat
import threading

import msal
import pytest
import requests
from joserfc import jwt
from werkzeug.serving import make_server

from idp import devtls
from idp.extensions import db
from idp.oidc.clients import create_client

from .support import REDIRECT, Agent, GraphClient, password_sign_in


class HttpsServer:
    def __init__(self, app, files):
        self.server = make_server("localhost", 0, app, threaded=True, ssl_context=(str(files.cert), str(files.key)))
        self.url = f"https://localhost:{self.server.server_port}"
        self.ca = str(files.ca_cert)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def https(app, tmp_path, monkeypatch):
    files = devtls.ensure(str(tmp_path / "instance"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(files.ca_cert))  # the hint `flask idp tls` prints
    server = HttpsServer(app, files)
    yield server
    server.stop()


def test_certificates_are_made_once_with_private_keys_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_TLS_NAMES", "idp.test, 10.0.0.7")
    first = devtls.ensure(str(tmp_path))
    before = {p: p.read_bytes() for p in (first.ca_cert, first.cert, first.key)}
    second = devtls.ensure(str(tmp_path))
    assert {p: p.read_bytes() for p in (second.ca_cert, second.cert, second.key)} == before  # idempotent
    for key in (first.key, tmp_path / "tls" / "ca-key.pem"):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(first.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {str(v) for v in san.get_values_for_type(x509.DNSName)} | {
        str(v) for v in san.get_values_for_type(x509.IPAddress)
    }
    assert {"localhost", "127.0.0.1", "idp.test", "10.0.0.7"} <= names
    monkeypatch.setenv("IDP_TLS_NAMES", "other.test")  # a new name re-issues the server certificate, not the CA
    third = devtls.ensure(str(tmp_path))
    assert third.ca_cert.read_bytes() == before[first.ca_cert] and third.cert.read_bytes() != before[first.cert]


def test_discovery_is_https_everywhere(https, seed):
    meta = requests.get(f"{https.url}/contoso.test/v2.0/.well-known/openid-configuration", verify=https.ca).json()
    urls = [v for k, v in meta.items() if k.endswith("endpoint") or k in ("issuer", "jwks_uri")]
    assert urls and all(u.startswith("https://") for u in urls)


def test_msal_client_credentials_token_is_accepted_by_the_admin_api(https, seed):
    client, secret = create_client(
        seed.tenant, "Daemon", [], grants=["client_credentials"], permissions=["UserAuthenticationMethod.ReadWrite.All"]
    )
    db.session.commit()
    app = msal.ConfidentialClientApplication(
        client.id, client_credential=secret, authority=f"{https.url}/{seed.tenant.id}", instance_discovery=False
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], _keys(https)).claims
    assert (
        claims["roles"] == ["UserAuthenticationMethod.ReadWrite.All"] and claims["aud"] == "https://graph.microsoft.com"
    )
    assert claims["tid"] == seed.tenant.id and claims["ver"] == "2.0" and claims["idtyp"] == "app"
    graph = GraphClient(https.url, result["access_token"])
    graph.http.verify = https.ca
    created = graph("POST", "/users/alice@contoso.test/authentication/temporaryAccessPassMethods", {})
    assert created.status_code == 201, created.text
    assert app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["token_source"] == "cache"


def _keys(https):
    from joserfc.jwk import KeySet

    return KeySet.import_key_set(requests.get(f"{https.url}/contoso.test/discovery/v2.0/keys", verify=https.ca).json())


def _browser_sign_in(https, auth_uri):
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(auth_uri)
    password_sign_in(agent, "alice@contoso.test")
    return agent.redirect_params()


@pytest.mark.parametrize("kind", ["confidential", "public"])
def test_msal_auth_code_flow_then_silent_refresh(https, seed, kind):
    authority = f"{https.url}/contoso.test"
    if kind == "confidential":
        app = msal.ConfidentialClientApplication(
            seed.client_id, client_credential=seed.client_secret, authority=authority, instance_discovery=False
        )
    else:
        app = msal.PublicClientApplication(seed.public_client_id, authority=authority, instance_discovery=False)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    assert "code_challenge" in flow["auth_uri"] and "client_info=1" in flow["auth_uri"]
    result = app.acquire_token_by_auth_code_flow(flow, _browser_sign_in(https, flow["auth_uri"]))
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert claims["oid"] == seed.alice.id and claims["tid"] == seed.tenant.id
    assert claims["preferred_username"] == "alice@contoso.test"
    access = jwt.decode(result["access_token"], _keys(https)).claims
    assert (
        access["scp"] == "User.Read"
        and access["aud"] == "https://graph.microsoft.com"
        and access["oid"] == seed.alice.id
    )
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == ["alice@contoso.test"]
    assert accounts[0]["home_account_id"] == f"{seed.alice.id}.{seed.tenant.id}"
    silent = app.acquire_token_silent(["User.Read"], account=accounts[0], force_refresh=True)
    assert silent and "access_token" in silent and silent["access_token"] != result["access_token"], silent
    assert silent.get("token_source") == "identity_provider"


def test_scopes_of_a_registered_api(https, seed):
    api, _ = create_client(seed.tenant, "Files API", [], grants=["client_credentials"], exposed_scopes=["Files.Read"])
    db.session.commit()
    caller, secret = create_client(
        seed.tenant,
        "Files client",
        [REDIRECT],
        scopes=[f"api://{api.id}/Files.Read"],
        grants=["authorization_code", "refresh_token", "client_credentials"],
        permissions=[f"api://{api.id}/Files.ReadAll"],
    )
    db.session.commit()
    app = msal.ConfidentialClientApplication(
        caller.id, client_credential=secret, authority=f"{https.url}/contoso.test", instance_discovery=False
    )
    flow = app.initiate_auth_code_flow([f"api://{api.id}/Files.Read"], redirect_uri=REDIRECT)
    result = app.acquire_token_by_auth_code_flow(flow, _browser_sign_in(https, flow["auth_uri"]))
    access = jwt.decode(result["access_token"], _keys(https)).claims
    assert access["aud"] == api.id and access["scp"] == "Files.Read" and access["ver"] == "2.0"
    app_only = app.acquire_token_for_client([f"api://{api.id}/.default"])
    claims = jwt.decode(app_only["access_token"], _keys(https)).claims
    assert claims["aud"] == api.id and claims["roles"] == ["Files.ReadAll"]
    # a scope the API does not expose is refused, even when granted
    from idp.oidc.models import Client

    db.session.get(Client, caller.id).scopes = db.session.get(Client, caller.id).scopes + [
        f"api://{api.id}/Files.Write"
    ]
    db.session.commit()
    hidden = app.initiate_auth_code_flow([f"api://{api.id}/Files.Write"], redirect_uri=REDIRECT)
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(hidden["auth_uri"])
    assert agent.redirect_params()["error"] == "invalid_scope"
    # one resource per token, as in Entra
    mixed = app.initiate_auth_code_flow([f"api://{api.id}/Files.Read", "User.Read"], redirect_uri=REDIRECT)
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(mixed["auth_uri"])
    assert agent.redirect_params()["error"] == "invalid_scope"


def test_every_cookie_is_secure_over_https(https, seed):
    agent = Agent(https.url)
    agent.http.verify = https.ca
    agent.go(
        f"/contoso.test/oauth2/v2.0/authorize?client_id={seed.client_id}&response_type=code"
        f"&redirect_uri={REDIRECT}&scope=openid&code_challenge={'a' * 43}&code_challenge_method=S256"
    )
    password_sign_in(agent, "alice@contoso.test")
    cookies = list(agent.http.cookies)
    assert {c.name for c in cookies} >= {"__Host-idp_flow", f"__Host-idp_sso_{seed.tenant.id}"}  # over HTTPS
    assert all(c.secure for c in cookies)
