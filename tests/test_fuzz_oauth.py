"""Hypothesis: hostile parameters to the OAuth endpoints and sign-in forms never give a 500, never redirect
to an unregistered URI, and never reflect markup unescaped. (`make fuzz`-length runs: raise max_examples.)"""

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import REDIRECT

EXAMPLES = int(os.environ.get("IDP_FUZZ_EXAMPLES", "60"))
HOSTILE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "javascript:alert(1)",
            "https://evil.example/cb",
            REDIRECT + "/../x",
            "\x00",
            "%00",
            "' OR 1=1 --",
            "a" * 5000,
            "openid " * 50,
            "S256",
            "plain",
            "none",
            "login",
            "-1",
            "99999999999999999999",
        ]
    ),
)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
PARAMS = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "nonce",
    "login_hint",
    "response_mode",
]


def assert_safe(response, allowed_prefixes=(REDIRECT, "/contoso.test/login", "http://localhost/contoso.test/login")):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["Location"]
        assert location.startswith(allowed_prefixes), location
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body


@FUZZ
@given(
    values=st.dictionaries(st.sampled_from(PARAMS), HOSTILE, max_size=len(PARAMS)),
    use_real_client=st.booleans(),
    use_real_redirect=st.booleans(),
)
def test_authorize(app, seed, values, use_real_client, use_real_redirect):
    if use_real_client:
        values["client_id"] = seed.client_id
    if use_real_redirect:
        values["redirect_uri"] = REDIRECT
    with app.test_client() as client:
        assert_safe(client.get("/contoso.test/oauth2/v2.0/authorize", query_string=values))
        assert_safe(client.post("/contoso.test/oauth2/v2.0/authorize", data=values))


TOKEN_FIELDS = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "client_info",
]


@FUZZ
@given(
    values=st.dictionaries(st.sampled_from(TOKEN_FIELDS), HOSTILE, max_size=len(TOKEN_FIELDS)),
    authenticate=st.booleans(),
)
def test_token_introspect_revoke(app, seed, values, authenticate):
    auth = (seed.client_id, seed.client_secret) if authenticate else None
    with app.test_client() as client:
        for endpoint in ("token", "introspect", "revoke"):
            headers = {}
            if auth:
                import base64

                headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            response = client.post(
                f"/contoso.test/oauth2/v2.0/{endpoint}",
                data={**values, "token": values.get("code", "")},
                headers=headers,
            )
            assert_safe(response)
            assert response.is_json


@FUZZ
@given(hint=HOSTILE, uri=HOSTILE, state=HOSTILE, client_id=HOSTILE)
def test_logout(app, seed, hint, uri, state, client_id):
    with app.test_client() as client:
        response = client.get(
            "/contoso.test/oauth2/v2.0/logout",
            query_string={
                "id_token_hint": hint,
                "post_logout_redirect_uri": uri,
                "state": state,
                "client_id": client_id,
            },
        )
        assert_safe(response, allowed_prefixes=("http://127.0.0.1:9/signed-out",))


@FUZZ
@given(username=HOSTILE, password=HOSTILE, tap=HOSTILE)
def test_sign_in_forms(app, seed, username, password, tap):
    app.config["WTF_CSRF_ENABLED"] = False  # the forms' own handling is what is fuzzed here
    try:
        with app.test_client() as client:
            client.get(
                "/contoso.test/oauth2/v2.0/authorize",
                query_string={
                    "client_id": seed.client_id,
                    "redirect_uri": REDIRECT,
                    "response_type": "code",
                    "scope": "openid",
                },
            )
            assert_safe(client.post("/contoso.test/login/", data={"username": username}))
            assert_safe(client.post("/contoso.test/login/", data={"username": "alice@contoso.test"}))
            assert_safe(client.post("/contoso.test/login/method/password", data={"password": password}))
            assert_safe(client.post("/contoso.test/login/method/tap", data={"tap": tap}))
            page = client.get("/contoso.test/login/")
            assert_safe(page)
            assert not re.search(r"<script>(?!\s*$)", page.get_data(as_text=True))
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "rawId",
                    "type",
                    "response",
                    "clientDataJSON",
                    "authenticatorData",
                    "signature",
                    "userHandle",
                    "attestationObject",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@FUZZ
@given(credential=st.one_of(HOSTILE, JSONISH.map(__import__("json").dumps)), otc=HOSTILE)
def test_passkey_and_mfa_forms(app, seed, credential, otc):
    """Hostile WebAuthn responses at the username-less passkey step, and hostile codes and reports: 4xx pages,
    never a 500, never anyone signed in."""
    from idp.policy import service as policy
    from idp.extensions import db

    config = policy.get(seed.tenant.id, "Fido2")
    config.state = "enabled"
    policy.save(seed.tenant.id, config)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        with app.test_client() as client:
            client.get("/contoso.test/login/")
            response = client.post("/contoso.test/login/without-username/passkey", data={"credential": credential})
            assert_safe(response)
            assert response.status_code in (302, 400) and "/login/kmsi" not in response.headers.get("Location", "")
            assert_safe(client.post("/contoso.test/login/method/oath", data={"otc": otc}))
            assert_safe(client.post("/contoso.test/login/report", data={}))
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


@FUZZ
@given(action=HOSTILE, otc=HOSTILE, stay=HOSTILE)
def test_guest_code_and_stay_signed_in_forms(app, seed, action, otc, stay):
    """A guest's email-code step (its auxiliary "send" action too) and "Stay signed in?" with hostile values."""
    from idp.directory import service as directory
    from idp.directory.models import User
    from idp.extensions import db

    if db.session.query(User).filter_by(mail="gina@partner.example").first() is None:
        directory.create_user(
            seed.tenant, "gina_partner.example#EXT#@contoso.test", "Gina", guest="external", mail="gina@partner.example"
        )
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        with app.test_client() as client:
            client.get("/contoso.test/login/")
            assert_safe(client.post("/contoso.test/login/", data={"username": "gina@partner.example"}))
            assert_safe(client.post("/contoso.test/login/method/email_otp", data={"action": action}))
            response = client.post("/contoso.test/login/method/email_otp", data={"otc": otc})
            assert_safe(response)
            assert "/login/kmsi" not in response.headers.get("Location", "")  # no code was ever right
            assert_safe(client.post("/contoso.test/login/kmsi", data={"stay": stay}))
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
