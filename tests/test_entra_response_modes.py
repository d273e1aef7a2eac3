"""Response modes (query, fragment, form_post) and the ID-token response types behind the app's switch."""

import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idp.extensions import db
from idp.oidc.clients import create_client

from .browser import press
from .support import PASSWORD, REDIRECT, Agent, forms, password_sign_in

VERIFIER = "v" * 64


def authorize_url(client_id, **params):
    query = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "st-1",
        "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    query.update(params)
    return f"/contoso.test/oauth2/v2.0/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}"


def posted_fields(agent) -> dict:
    """The auto-submitting form of a form_post response: where it posts, and what."""
    assert agent.page.status_code == 200, agent.page.text[:300]
    form = forms(agent.page.text)[0]
    assert form["action"] == REDIRECT and form["method"] == "post"
    assert "form_post.js" in agent.page.text and agent.page.headers["Cache-Control"] == "no-store"
    return form["fields"]


def keys(live):
    return KeySet.import_key_set(requests.get(f"{live.url}/contoso.test/discovery/v2.0/keys").json())


def redeem(live, client_id, secret, code):
    return requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
            "client_id": client_id,
            "client_secret": secret,
        },
    )


def test_code_by_form_post_and_by_fragment(live, seed):
    agent = Agent(live.url)
    agent.go(authorize_url(seed.client_id, response_mode="form_post"))
    password_sign_in(agent, "alice@contoso.test")
    fields = posted_fields(agent)
    assert fields["state"] == "st-1" and fields["iss"].endswith(f"/{seed.tenant.id}/v2.0")
    assert redeem(live, seed.client_id, seed.client_secret, fields["code"]).status_code == 200
    agent.go(authorize_url(seed.client_id, response_mode="fragment"))  # SSO: straight back
    target = urlsplit(agent.location)
    assert not target.query and parse_qs(target.fragment)["code"] and parse_qs(target.fragment)["state"] == ["st-1"]
    # errors follow the mode too
    agent.go(authorize_url(seed.client_id, response_mode="form_post", scope="openid Directory.ReadWrite.All"))
    assert posted_fields(agent)["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "params",
    [
        {"response_mode": "web_message"},
        {"response_mode": "QUERY"},
        {"response_type": "id_token", "response_mode": "query", "nonce": "n"},
    ],
)
def test_unsupported_modes_are_refused_not_replaced(live, seed, params):
    response = requests.get(live.url + authorize_url(seed.client_id, **params), allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "AADSTS9002313" in response.text and "response_mode" in response.text


def test_id_token_response_types_need_the_app_switch(live, seed):
    off = requests.get(
        live.url + authorize_url(seed.client_id, response_type="code id_token", nonce="n1"), allow_redirects=False
    )
    params = parse_qs(urlsplit(off.headers["Location"]).fragment)
    assert params["error"] == ["unauthorized_client"] and params["error_codes"] == ["700054"]
    client, secret = create_client(seed.tenant, "Hybrid app", [REDIRECT])
    client.id_tokens_enabled = True
    db.session.commit()
    agent = Agent(live.url)
    agent.go(authorize_url(client.id, response_type="code id_token", response_mode="form_post", nonce="n-42"))
    password_sign_in(agent, "alice@contoso.test")
    fields = posted_fields(agent)
    claims = jwt.decode(fields["id_token"], keys(live)).claims
    assert claims["nonce"] == "n-42" and claims["aud"] == client.id and claims["c_hash"]
    assert claims["iss"].endswith(f"/{seed.tenant.id}/v2.0") and "access_token" not in fields
    redeemed = redeem(live, client.id, secret, fields["code"])
    assert redeemed.status_code == 200 and redeemed.json()["id_token"]
    agent.go(
        authorize_url(
            client.id, response_type="id_token", nonce="n-43", code_challenge=None, code_challenge_method=None
        )
    )
    fragment = parse_qs(urlsplit(agent.location).fragment)
    assert jwt.decode(fragment["id_token"][0], keys(live)).claims["nonce"] == "n-43" and "code" not in fragment
    missing_nonce = requests.get(live.url + authorize_url(client.id, response_type="id_token"), allow_redirects=False)
    assert parse_qs(urlsplit(missing_nonce.headers["Location"]).fragment)["error"] == ["invalid_request"]


class Catcher:
    """The app's redirect URI: records what the browser posts to it."""

    def __init__(self):
        self.posted = []
        self.server = make_server("127.0.0.1", 0, self, threaded=True)  # Chromium may hold a preconnected socket idle
        self.url = f"http://127.0.0.1:{self.server.server_port}/signin-oidc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.posted.append((request.method, dict(request.form)))
        return Response("received")(environ, start_response)


@pytest.mark.browser
def test_form_post_submits_itself_in_chromium(live, seed, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    catcher = Catcher()
    client, _ = create_client(seed.tenant, "Web app (form_post)", [catcher.url])
    db.session.commit()
    browser.get(live.url + authorize_url(client.id, response_mode="form_post", redirect_uri=catcher.url))
    browser.find_element(By.ID, "username").send_keys("alice@contoso.test")
    press(browser, "button.primary")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    press(browser, "button.primary")
    press(browser, "button[value=no]")
    WebDriverWait(browser, 15).until(lambda d: catcher.posted)
    catcher.server.shutdown()
    method, fields = catcher.posted[0]
    assert method == "POST" and fields["state"] == "st-1" and fields["code"]


def test_reflected_values_in_an_error_description_are_printable_ascii(app, seed):
    """RFC 6749 allows only printable ASCII without '"' and '\\' in error_description (Authlib refuses to build
    one otherwise): a hostile response_mode, or an app name in Japanese, is reflected with those replaced
    instead of becoming a 500 (found by make fuzz)."""
    from idp.oidc.models import Client

    http = app.test_client()
    page = http.get(
        "/contoso.test/oauth2/v2.0/authorize",
        query_string={"client_id": seed.client_id, "response_mode": 'a\\b"日本', "redirect_uri": "x"},
    )
    assert page.status_code == 400 and "response_mode" in page.get_data(as_text=True)
    db.session.get(Client, seed.client_id).name = "経費アプリ"
    db.session.commit()
    refused = http.get(
        "/common/oauth2/v2.0/authorize",
        query_string={
            "client_id": seed.client_id,
            "response_type": "code",
            "redirect_uri": "http://127.0.0.1:9/callback",
            "scope": "openid",
            "code_challenge": create_s256_code_challenge("v" * 43),
            "code_challenge_method": "S256",
        },
    )
    location = refused.headers.get("Location", "")
    assert refused.status_code == 302 and "AADSTS50194" in location, refused.get_data(as_text=True)[:300]
    description = parse_qs(urlsplit(location).query)["error_description"][0]
    assert "(?????)" in description and all(" " <= c <= "~" for c in description)
