"""The quick path (idp/oidc/quick_path.py) answers a daemon's plain client_credentials request, a plain
refresh and an introspection ahead of Authlib, and only those: each request below is sent twice, once as the
server runs and once with the path taken out, and both answers must agree (status, headers, body; for a
token, every claim but the per-token ones; a refresh token rotates each way, a twin of the same grant each). What the path answered and what it left to the framework is checked too, so a path that gave up on
everything would fail here as surely as one that answered wrongly."""

import base64
import re
from datetime import timedelta

import pytest
from joserfc import jwt

from idp import clock
from idp.extensions import db
from idp.oidc import applications, keys
from idp.oidc.models import Client

from .support import REDIRECT, Agent, password_sign_in
from .test_oidc_errors import VERIFIER, authorize

GRAPH = "https://graph.microsoft.com/.default"
PER_TOKEN = {"jti", "uti", "iat", "nbf", "exp", "at_hash"}
ISSUED = ("access_token", "refresh_token", "id_token")  # new each time: compared by their claims or shape
VARYING_HEADERS = {"Content-Length", "Date", "x-ms-request-id", "client-request-id", "Set-Cookie"}  # per request
# a timestamp has a space in it ("2026-12-04 20:00:00Z"): two answers a second apart differ there too
PER_REQUEST = re.compile(r"(Trace ID|Correlation ID): [^\s]+|Timestamp: [\d-]+ [\d:]+Z")


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def send(app):
    """send(...) -> (answer with the path, answer without it, whether the path answered). Each request runs in
    an app context of its own, as in production: nothing one request leaves in `g` reaches the next."""
    path = app.extensions["quick_path"]
    assert app.wsgi_app is path  # outermost but for a proxy fix: no Flask hook runs before it
    answered = []
    answer = path._answer

    def recording(*args):
        found = answer(*args)
        answered.append(found is not None)
        return found

    def one(url, method, kwargs):
        if callable(kwargs.get("data")):  # a form of its own each way (a refresh token is used once)
            kwargs = {**kwargs, "data": kwargs["data"]()}
        with app.app_context():  # Flask's own path would otherwise share the test's context (and its g)
            return app.test_client().open(url, method=method, **kwargs)  # no cookie from the last one

    def send(url="/contoso.test/oauth2/v2.0/token", method="POST", **kwargs):
        answered.clear()
        path._answer = recording
        try:
            with_path = one(url, method, kwargs)
        finally:
            path._answer = answer
        path.enabled = False
        try:
            without = one(url, method, kwargs)
        finally:
            path.enabled = True
        return with_path, without, any(answered)

    return send


def claims_of(answer, kind="access_token") -> dict:
    token = answer.get_json()[kind]
    return jwt.decode(token, keys.public_keyset()).claims


def assert_same(with_path, without) -> None:
    assert with_path.status_code == without.status_code, (with_path.get_data(), without.get_data())
    headers = {k: v for k, v in with_path.headers.items() if k not in VARYING_HEADERS}
    assert headers == {k: v for k, v in without.headers.items() if k not in VARYING_HEADERS}
    assert _cookie_names(with_path) == _cookie_names(without)  # an error page's CSRF cookie: a new value each time
    if with_path.mimetype != "application/json":
        assert _page(with_path) == _page(without)
        return
    body, other = with_path.get_json(), without.get_json()
    assert list(body) == list(other)  # the same bytes: the same members, in the same order
    if "access_token" not in body:  # an error or an introspection: the same words, but for per-request ids
        assert _without_ids(body) == _without_ids(other)
        return
    assert {k: v for k, v in body.items() if k not in ISSUED} == {k: v for k, v in other.items() if k not in ISSUED}
    for kind in ("access_token", "id_token"):
        if kind in body:
            mine, theirs = claims_of(with_path, kind), claims_of(without, kind)
            assert {k: v for k, v in mine.items() if k not in PER_TOKEN} == {
                k: v for k, v in theirs.items() if k not in PER_TOKEN
            }
            assert mine["exp"] - mine["iat"] == theirs["exp"] - theirs["iat"]
            assert mine["uti"] != theirs["uti"]
    if "refresh_token" in body:
        assert (
            len(body["refresh_token"]) == len(other["refresh_token"])
            and body["refresh_token"] != other["refresh_token"]
        )


def _page(answer) -> str:
    """A page's text without what each rendering draws anew (its CSRF token, its trace ids)."""
    text = re.sub(r'<dl class="muted trace">.*?</dl>', "", answer.get_data(as_text=True), flags=re.S)
    return PER_REQUEST.sub("", re.sub(r'value="[^"]*"', "", text))


def _cookie_names(answer) -> list[str]:
    return [cookie.partition("=")[0] for cookie in answer.headers.getlist("Set-Cookie")]


def _without_ids(body: dict) -> dict:
    ids = ("trace_id", "correlation_id", "timestamp")
    return {k: PER_REQUEST.sub("", v) if isinstance(v, str) else v for k, v in body.items() if k not in ids}


def test_a_daemons_secret_by_basic_or_form_gets_the_framework_token(send, seed):
    for_graph = {"grant_type": "client_credentials", "scope": GRAPH}
    cases = [
        dict(data=for_graph, headers=basic(seed.app_client_id, seed.app_client_secret)),
        dict(data={**for_graph, "client_id": seed.app_client_id, "client_secret": seed.app_client_secret}),
        dict(  # no scope: Graph's .default, as Entra
            data={"grant_type": "client_credentials"}, headers=basic(seed.app_client_id, seed.app_client_secret)
        ),
    ]
    for case in cases:
        with_path, without, answered = send(**case)
        assert answered and with_path.status_code == 200
        assert_same(with_path, without)
        claims = claims_of(with_path)
        assert claims["roles"] == ["User.Read.All"] and claims["idtyp"] == "app" and claims["appidacr"] == "1"
    assert with_path.headers["Cache-Control"] == "no-store" and with_path.headers["Pragma"] == "no-cache"
    assert with_path.headers["X-Content-Type-Options"] == "nosniff"


def test_an_es256_app_and_a_new_secret_get_the_framework_token(send, seed):
    client = db.session.get(Client, seed.app_client_id)
    secret = applications.add_password(client, {"displayName": "CI"})["secretText"]
    client.id_token_signed_response_alg = "ES256"
    db.session.commit()
    with_path, without, answered = send(
        data={"grant_type": "client_credentials", "scope": GRAPH}, headers=basic(seed.app_client_id, secret)
    )
    assert answered and with_path.status_code == 200
    assert_same(with_path, without)


def test_everything_else_is_left_to_the_framework_with_the_same_answer(send, seed):
    graph = {"grant_type": "client_credentials", "scope": GRAPH}
    daemon = basic(seed.app_client_id, seed.app_client_secret)
    post = {"client_id": seed.app_client_id, "client_secret": seed.app_client_secret}
    cases = {
        "wrong secret": dict(data=graph, headers=basic(seed.app_client_id, "not-it")),
        "unknown client": dict(data=graph, headers=basic("00000000-0000-0000-0000-000000000000", "x")),
        "an app without the grant": dict(data=graph, headers=basic(seed.client_id, seed.client_secret)),
        "a public client": dict(data={**graph, "client_id": seed.public_client_id, "client_secret": "x"}),
        "another resource": dict(data={**graph, "scope": f"api://{seed.client_id}/.default"}, headers=daemon),
        "two scopes": dict(data={**graph, "scope": f"{GRAPH} openid"}, headers=daemon),
        "not .default": dict(data={**graph, "scope": "https://graph.microsoft.com/User.Read"}, headers=daemon),
        "an extra parameter": dict(data={**graph, "client_info": "1"}, headers=daemon),
        "a repeated parameter": dict(
            data="grant_type=client_credentials&grant_type=client_credentials",
            content_type="application/x-www-form-urlencoded",
            headers=daemon,
        ),
        "both ways at once": dict(data={**graph, **post}, headers=daemon),
        "a malformed header": dict(data={**graph, **post}, headers={"Authorization": "Basic !!!"}),
        "an empty header": dict(data=graph, headers={"Authorization": "Basic "}),
        "a bearer header": dict(data={**graph, **post}, headers={"Authorization": "Bearer x"}),
        "a control character": dict(data={**graph, "client_id": seed.app_client_id + "\n", "client_secret": "x"}),
        "not ASCII": dict(data={**graph, "client_id": seed.app_client_id, "client_secret": "sécret"}),
        "a query string": dict(url="/contoso.test/oauth2/v2.0/token?x=1", data=graph, headers=daemon),
        "/common": dict(url="/common/oauth2/v2.0/token", data=graph, headers=daemon),
        "/organizations": dict(url="/organizations/oauth2/v2.0/token", data=graph, headers=daemon),
        "JSON, not a form": dict(json=graph, headers=daemon),
        "another grant": dict(data={"grant_type": "refresh_token", "refresh_token": "x"}, headers=daemon),
        "OPTIONS, not POST": dict(method="OPTIONS", data=graph, headers=daemon),
        "a header not in ASCII": dict(data=graph, headers={"Authorization": "Basic \xe9"}),
    }
    for name, case in cases.items():
        with_path, without, answered = send(**case)
        assert not answered, name
        assert_same(with_path, without)
    assert send(data=graph, headers=basic(seed.app_client_id, "not-it"))[0].status_code == 401
    not_ascii = send(**cases["a header not in ASCII"])[0]  # refused in Entra's words, not a server error
    assert not_ascii.status_code == 401 and not_ascii.get_json()["error"] == "invalid_client"


def test_a_body_shorter_than_its_content_length_is_the_frameworks_to_refuse(send, seed):
    """A request cut short (the client sent less than its Content-Length) is no request to act on: the
    framework refuses it (400), so the path must not answer it from the part that arrived."""
    form = "grant_type=client_credentials"
    for length in (len(form) + 1, len(form) + 20):
        with_path, without, answered = send(
            data=form,
            content_type="application/x-www-form-urlencoded",
            headers=basic(seed.app_client_id, seed.app_client_secret),
            environ_overrides={"CONTENT_LENGTH": str(length)},
        )
        assert not answered and without.status_code == 400, length
        assert_same(with_path, without)


def test_a_content_length_of_other_digits_is_the_frameworks_not_a_crash(send, seed):
    """A WSGI header is Latin-1 text: a Content-Length of superscript digits passes str.isdigit but not int()
    (a 500 from the path); it is the framework's to read, as it reads any malformed length."""
    for length in ("\u00b2", "\u00b9", "\u00b3", "+29", " 29"):
        with_path, without, answered = send(
            data="grant_type=client_credentials",
            content_type="application/x-www-form-urlencoded",
            headers=basic(seed.app_client_id, seed.app_client_secret),
            environ_overrides={"CONTENT_LENGTH": length},
        )
        assert not answered and with_path.status_code < 500, length
        assert_same(with_path, without)


def test_over_https_the_token_names_the_https_issuer_and_the_answer_keeps_to_https(send, seed):
    with_path, without, answered = send(
        data={"grant_type": "client_credentials", "scope": GRAPH},
        headers=basic(seed.app_client_id, seed.app_client_secret),
        base_url="https://localhost",
    )
    assert answered and with_path.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert claims_of(with_path)["iss"].startswith("https://localhost/")
    assert_same(with_path, without)


def test_a_host_the_server_does_not_trust_is_left_to_the_framework_which_refuses_it(send, seed):
    with_path, without, answered = send(
        data={"grant_type": "client_credentials", "scope": GRAPH},
        headers=basic(seed.app_client_id, seed.app_client_secret),
        base_url="http://evil.example",
    )
    assert not answered and with_path.status_code == 400
    assert_same(with_path, without)


def _app_with(tmp_path, app, **settings):
    from idp import create_app

    from .conftest import _config

    return create_app({**_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]), **settings})


def test_an_app_wide_rate_limit_sends_every_request_through_the_limiter(tmp_path, app, seed):
    limited = _app_with(tmp_path, app, RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2/minute")
    form = {"grant_type": "client_credentials", "scope": GRAPH}
    http = limited.test_client()
    answers = [
        http.post(
            "/contoso.test/oauth2/v2.0/token", data=form, headers=basic(seed.app_client_id, seed.app_client_secret)
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"


def _warm_then_both_ways(path, send):
    """(answer below Flask, answer through it) once a first request has filled the process's caches."""
    send()
    below = send()
    path.enabled = False
    try:
        return below, send()
    finally:
        path.enabled = True


def test_statements_are_counted_below_flask_as_in_it(tmp_path, app, seed):
    counted = _app_with(tmp_path, app, IDP_COUNT_SQL=True)
    path, http = counted.extensions["quick_path"], counted.test_client()
    web = basic(seed.client_id, seed.client_secret)

    def introspect():
        with counted.app_context():
            return http.post("/contoso.test/oauth2/v2.0/introspect", data={"token": "not-a-token"}, headers=web)

    below, framework = _warm_then_both_ways(path, introspect)  # the tenant, client, revocation state cached
    assert below.get_json() == framework.get_json() == {"active": False}
    assert below.headers["X-SQL-Statements"] == framework.headers["X-SQL-Statements"] == "1"  # the refresh lookup


def test_another_tenants_path_gets_no_token_for_the_daemon(send, seed, app):
    from idp.directory import service as directory

    other = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    db.session.commit()
    with_path, without, answered = send(
        url=f"/{other.id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": GRAPH},
        headers=basic(seed.app_client_id, seed.app_client_secret),
    )
    assert not answered and with_path.status_code != 200
    assert_same(with_path, without)


def test_an_expired_secret_is_left_to_the_framework_which_says_so(send, seed):
    client = db.session.get(Client, seed.app_client_id)
    secret = applications.add_password(client, {"displayName": "ends"})["secretText"]
    end = clock.iso(clock.now() + timedelta(days=1))
    client.password_credentials = [{**c, "endDateTime": end} for c in client.password_credentials]
    db.session.commit()
    form = {"grant_type": "client_credentials", "client_id": seed.app_client_id, "client_secret": secret}
    assert send(data=form)[2]
    clock.advance(timedelta(days=2))
    with_path, without, answered = send(data=form)
    assert not answered and "AADSTS7000222" in with_path.get_json()["error_description"]
    assert_same(with_path, without)


def test_a_removed_secret_stops_working_at_once(send, seed, app):
    client = db.session.get(Client, seed.app_client_id)
    added = applications.add_password(client, {"displayName": "short-lived"})
    secret = added["secretText"]
    db.session.commit()
    form = {"grant_type": "client_credentials", "scope": GRAPH}
    assert send(data=form, headers=basic(seed.app_client_id, secret))[2]
    applications.remove_password(client, added["keyId"])
    db.session.commit()
    with_path, without, answered = send(data=form, headers=basic(seed.app_client_id, secret))
    assert not answered and with_path.status_code == 401
    assert_same(with_path, without)


@pytest.fixture
def user_tokens(app, seed, live):
    """alice's tokens for the web app: a browser-less sign-in on the live server, then the code grant."""
    agent = Agent(live.url)
    agent.go(authorize(live, client_id=seed.client_id, scope="openid offline_access").url)
    password_sign_in(agent, "alice@contoso.test")
    answer = app.test_client().post(
        "/contoso.test/oauth2/v2.0/token",
        headers=basic(seed.client_id, seed.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": agent.redirect_params()["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_introspection_of_live_and_dead_tokens_gives_the_framework_answer(send, seed, user_tokens):
    path = "/contoso.test/oauth2/v2.0/introspect"
    web = basic(seed.client_id, seed.client_secret)
    daemon_token = send(
        data={"grant_type": "client_credentials"}, headers=basic(seed.app_client_id, seed.app_client_secret)
    )
    answered_cases = {
        "a refresh token": dict(data={"token": user_tokens["refresh_token"]}, headers=web),
        "with its hint": dict(
            data={"token": user_tokens["refresh_token"], "token_type_hint": "refresh_token"}, headers=web
        ),
        "an access token": dict(
            data={"token": user_tokens["access_token"], "token_type_hint": "access_token"}, headers=web
        ),
        "an app-only token": dict(data={"token": daemon_token[0].get_json()["access_token"]}, headers=web),
        "by the form": dict(
            data={
                "token": user_tokens["refresh_token"],
                "client_id": seed.client_id,
                "client_secret": seed.client_secret,
            }
        ),
        "an unknown token": dict(data={"token": "not-a-token"}, headers=web),
        "the wrong hint": dict(
            data={"token": user_tokens["refresh_token"], "token_type_hint": "access_token"}, headers=web
        ),
    }
    for name, case in answered_cases.items():
        with_path, without, answered = send(url=path, **case)
        assert answered, name
        assert_same(with_path, without)
        assert with_path.status_code == 200
    assert send(url=path, **answered_cases["a refresh token"])[0].get_json()["active"] is True
    assert send(url=path, **answered_cases["an unknown token"])[0].get_json() == {"active": False}
    left_to_the_framework = {
        "a wrong secret": dict(data={"token": user_tokens["refresh_token"]}, headers=basic(seed.client_id, "x")),
        "no token": dict(data={"token_type_hint": "refresh_token"}, headers=web),
        "an unsupported hint": dict(
            data={"token": user_tokens["refresh_token"], "token_type_hint": "id_token"}, headers=web
        ),
        "an extra field": dict(data={"token": user_tokens["refresh_token"], "scope": "x"}, headers=web),
        "a public client": dict(data={"token": user_tokens["refresh_token"], "client_id": seed.public_client_id}),
        "OPTIONS, not POST": dict(method="OPTIONS", data={"token": user_tokens["refresh_token"]}, headers=web),
    }
    for name, case in left_to_the_framework.items():
        with_path, without, answered = send(url=path, **case)
        assert not answered, name
        assert_same(with_path, without)


def test_a_revoked_session_ends_its_refresh_token_on_both_paths(send, seed, user_tokens, app):
    from idp.signin import sessions

    sessions.revoke_user(seed.alice)
    db.session.commit()
    with_path, without, answered = send(
        url="/contoso.test/oauth2/v2.0/introspect",
        data={"token": user_tokens["refresh_token"]},
        headers=basic(seed.client_id, seed.client_secret),
    )
    assert answered and with_path.get_json() == {"active": False}
    assert_same(with_path, without)


def test_a_defect_in_the_path_costs_nothing_but_its_speed(app, seed, send, monkeypatch):
    """An unexpected error below Flask is logged and the framework answers the request as it would anyway."""
    from idp.oidc import quick_path

    def broken(*args):
        raise RuntimeError("a defect")

    monkeypatch.setattr(quick_path, "_app_token", broken)
    form = {"grant_type": "client_credentials", "scope": GRAPH}
    with_path, without, answered = send(data=form, headers=basic(seed.app_client_id, seed.app_client_secret))
    assert not answered and with_path.status_code == without.status_code == 200
    assert claims_of(with_path)["roles"] == claims_of(without)["roles"]


def test_an_unreachable_database_is_the_frameworks_503(app, seed, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from idp.oidc import quick_path

    def unreachable(*args):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(quick_path, "_authenticated_client", unreachable)
    with app.app_context():
        answer = app.test_client().post(
            "/contoso.test/oauth2/v2.0/introspect",
            data={"token": "x" * 40},
            headers=basic(seed.client_id, seed.client_secret),
        )
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json["error"] == "temporarily_unavailable"


def twin(refresh_token: str) -> str:
    """Another live refresh token of the same grant, session and scope (the grant stores one per rotation), so
    that both ways rotate a token of their own and must answer alike."""
    import secrets

    from idp import crypto
    from idp.oidc.models import Token

    table = Token.__table__
    row = db.session.execute(table.select().where(table.c.refresh_token_hash == crypto.digest(refresh_token))).one()
    token = secrets.token_urlsafe(48)
    copy = {"id": secrets.token_hex(16), "jti": secrets.token_hex(16), "refresh_token_hash": crypto.digest(token)}
    db.session.execute(table.insert().values(row._asdict() | copy))
    db.session.commit()
    return token


def refresh_form(user_tokens, **extra):
    return lambda: {"grant_type": "refresh_token", "refresh_token": twin(user_tokens["refresh_token"]), **extra}


def rotated(refresh_token: str) -> bool:
    from idp import crypto
    from idp.oidc.models import Token

    db.session.expire_all()
    row = db.session.scalar(db.select(Token).where(Token.refresh_token_hash == crypto.digest(refresh_token)))
    return row.rotated_at is not None


def test_a_plain_refresh_gets_the_framework_tokens_rotated_once(send, seed, user_tokens):
    clock.freeze()  # both ways at one instant: the same lifetimes
    web = basic(seed.client_id, seed.client_secret)
    by_form = {"client_id": seed.client_id, "client_secret": seed.client_secret}
    cases = {
        "by Basic": dict(data=refresh_form(user_tokens), headers=web),
        "by the form": dict(data=refresh_form(user_tokens, **by_form)),
        "MSAL's client_info": dict(data=refresh_form(user_tokens, client_info="1"), headers=web),
        "another client_info": dict(data=refresh_form(user_tokens, client_info="0"), headers=web),
        "MSAL's scopes": dict(
            data=refresh_form(user_tokens, scope="openid profile offline_access", client_info="1"), headers=web
        ),
        "Graph's .default, offline_access kept": dict(data=refresh_form(user_tokens, scope=GRAPH), headers=web),
    }
    for name, case in cases.items():
        with_path, without, answered = send(**case)
        assert answered and with_path.status_code == 200, (name, with_path.get_json())
        assert_same(with_path, without)
        body = with_path.get_json()
        assert "refresh_token" in body and ("id_token" in body) == ("openid" in body["scope"].split()), name
        assert ("client_info" in with_path.get_json()) == name.startswith("MSAL's")
    new = with_path.get_json()["refresh_token"]
    assert not rotated(new)
    again, _, answered = send(data=lambda: {"grant_type": "refresh_token", "refresh_token": new}, headers=web)
    assert answered and again.status_code == 200 and rotated(new)  # the path's own token rotates by the path
    assert claims_of(again)["rh"] == claims_of(with_path)["rh"]  # the same grant


def test_a_refresh_the_grant_would_refuse_or_explain_is_left_to_it(send, seed, user_tokens, app, monkeypatch):
    from authlib.oauth2.rfc6749.errors import InvalidGrantError

    from idp.oidc import claims as claim_rules

    web = basic(seed.client_id, seed.client_secret)
    used = twin(user_tokens["refresh_token"])
    send(data={"grant_type": "refresh_token", "refresh_token": used}, headers=web)
    cases = {
        "a scope the app was not granted": dict(
            data=refresh_form(user_tokens, scope="https://graph.microsoft.com/Mail.Send"), headers=web
        ),
        "scopes of two resources": dict(data=refresh_form(user_tokens, scope=f"{GRAPH} api://x/.default"), headers=web),
        "an unknown token": dict(data={"grant_type": "refresh_token", "refresh_token": "x" * 64}, headers=web),
        "no token": dict(data={"grant_type": "refresh_token"}, headers=web),
        "a used token (reuse)": dict(data={"grant_type": "refresh_token", "refresh_token": used}, headers=web),
        "a wrong secret": dict(data=refresh_form(user_tokens), headers=basic(seed.client_id, "x")),
        "another client's token": dict(
            data=refresh_form(user_tokens), headers=basic(seed.app_client_id, seed.app_client_secret)
        ),
        "an extra field": dict(data=refresh_form(user_tokens, code="x"), headers=web),
    }
    for name, case in cases.items():
        with_path, without, answered = send(**case)
        assert not answered, name
        assert_same(with_path, without)
    assert send(**cases["a used token (reuse)"])[0].get_json()["error"] == "invalid_grant"

    def tap_gone(session, token):
        raise InvalidGrantError("The Temporary Access Pass used for this sign-in was deleted; sign in again.")

    monkeypatch.setattr(claim_rules, "refresh_rules", [*claim_rules.refresh_rules, tap_gone])
    with_path, without, answered = send(data=refresh_form(user_tokens), headers=web)
    assert not answered and "Temporary Access Pass" in with_path.get_json()["error_description"]
    assert_same(with_path, without)


@pytest.mark.parametrize("ended", ["session revoked", "user disabled", "refresh token expired"])
def test_an_ended_grant_is_left_to_the_framework_which_refuses_it(send, seed, user_tokens, ended):
    from idp.signin import sessions

    web = basic(seed.client_id, seed.client_secret)
    form = refresh_form(user_tokens)
    if ended == "session revoked":
        sessions.revoke_user(seed.alice)
    elif ended == "user disabled":
        seed.alice.account_enabled = False
    else:
        clock.advance(timedelta(seconds=app_config("IDP_REFRESH_TOKEN_LIFETIME") + 60))
    db.session.commit()
    with_path, without, answered = send(data=form, headers=web)
    assert not answered and with_path.status_code == 400
    assert_same(with_path, without)


def app_config(name):
    from flask import current_app

    return current_app.config[name]


def test_a_sessions_hard_cap_caps_what_the_path_issues(send, seed, user_tokens):
    """A TAP's or guest's session ends at `not_after`: every token issued from it ends then too, both ways."""
    from idp import crypto
    from idp.oidc.models import Token
    from idp.signin.models import SigninSession

    clock.freeze()
    cap = clock.now() + timedelta(minutes=10)
    db.session.execute(db.update(SigninSession).values(not_after=cap))
    db.session.commit()
    with_path, without, answered = send(
        data=refresh_form(user_tokens), headers=basic(seed.client_id, seed.client_secret)
    )
    assert answered and with_path.status_code == 200
    assert_same(with_path, without)
    body = with_path.get_json()
    assert body["expires_in"] == 600 and claims_of(with_path, "id_token")["exp"] == clock.to_epoch(cap)
    stored = db.session.scalar(db.select(Token).where(Token.refresh_token_hash == crypto.digest(body["refresh_token"])))
    assert stored.refresh_expires_at == cap
    clock.advance(timedelta(minutes=11))
    late, other, answered = send(data=refresh_form(user_tokens), headers=basic(seed.client_id, seed.client_secret))
    assert not answered and late.status_code == 400
    assert_same(late, other)


def test_a_refresh_costs_three_statements_both_ways(tmp_path, app, seed, user_tokens):
    """The joined read of token, session and user; the claim; the successor's INSERT (one transaction)."""
    counted = _app_with(tmp_path, app, IDP_COUNT_SQL=True)
    path, http = counted.extensions["quick_path"], counted.test_client()

    def refresh():
        form = {"grant_type": "refresh_token", "refresh_token": twin(user_tokens["refresh_token"])}
        with counted.app_context():  # a context of its own: the twin's statements are not the request's
            return http.post(
                "/contoso.test/oauth2/v2.0/token", data=form, headers=basic(seed.client_id, seed.client_secret)
            )

    below, framework = _warm_then_both_ways(path, refresh)  # the tenant, the client, the signing key cached
    assert below.status_code == framework.status_code == 200
    assert below.headers["X-SQL-Statements"] == framework.headers["X-SQL-Statements"] == "3"
