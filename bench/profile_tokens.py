"""Where a token request's CPU goes: client_credentials, introspection of a refresh token and refresh-token
rotation, in-process through Flask's test client on a fresh SQLite database (or PostgreSQL's, at
127.0.0.1:5432 as the tests use it), under cProfile.

    .venv/bin/python bench/profile_tokens.py [--scenario client_credentials|introspection|refresh] [-n 2000]
        [--top 30] [--no-profile] [--without-quick-path] [--postgresql]

Prints CPU and wall milliseconds per request (CPU of this process: app and test client; on PostgreSQL the
server's own work is in the wall time only) and the profile's top functions."""

import argparse
import base64
import cProfile
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GRAPH = "https://graph.microsoft.com/.default"
FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


def make_app(folder: Path, database_url: str | None = None):
    from flask_migrate import upgrade

    from idp import create_app
    from idp.extensions import db
    from tests.conftest import _config
    from tests.support import Seed

    app = create_app(_config(folder, database_url or f"sqlite:///{folder / 'idp.db'}") | {"TESTING": False})
    context = app.app_context()
    context.push()
    upgrade()
    seed = Seed.create(app)
    db.session.remove()
    return app, seed


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def scenario_requests(app, seed, name: str, count: int):
    http = app.test_client()
    if name == "client_credentials":
        headers = basic(seed.app_client_id, seed.app_client_secret)
        data = {"grant_type": "client_credentials", "scope": GRAPH}
        return lambda: http.post("/contoso.test/oauth2/v2.0/token", data=data, headers=headers)
    token = issue_refresh_token(app, seed)
    headers = basic(seed.client_id, seed.client_secret)
    if name == "introspection":
        return lambda: http.post("/contoso.test/oauth2/v2.0/introspect", data={"token": token}, headers=headers)
    state = {"token": token}

    def rotate():
        answer = http.post(
            "/contoso.test/oauth2/v2.0/token",
            data={"grant_type": "refresh_token", "refresh_token": state["token"]},
            headers=headers,
        )
        state["token"] = answer.get_json()["refresh_token"]
        return answer

    return rotate


def issue_refresh_token(app, seed) -> str:
    """A refresh token of alice's: authorize -> UPN -> password -> stay signed in -> code -> token, in-process."""
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    from tests.support import PASSWORD, REDIRECT

    http, verifier = app.test_client(), "v" * 48
    query = {
        "client_id": seed.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile offline_access",
        "state": "s",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    page = follow(http, http.get("/contoso.test/oauth2/v2.0/authorize", query_string=query))
    page = post_form(http, page, "/login", username="alice@contoso.test")
    page = post_form(http, page, "/method/password", password=PASSWORD)
    location = post_form(http, page, "/login/kmsi", stay="no")
    code = parse_qs(urlsplit(location).query)["code"][0]
    answer = http.post(
        "/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
        headers=basic(seed.client_id, seed.client_secret),
    )
    return answer.get_json()["refresh_token"]


def follow(http, response):
    from tests.support import REDIRECT

    while response.status_code in (301, 302, 303, 307):
        location = response.headers["Location"]
        if location.startswith(REDIRECT):
            return location
        response = http.get(location)
    return response


def post_form(http, page, contains: str, **fields):
    for action, body in FORM.findall(page.get_data(as_text=True)):
        if action.rstrip("/").endswith(contains) or contains + "?" in action:
            return follow(http, http.post(action, data=dict(INPUT.findall(body)) | fields))
    raise RuntimeError(f"no form {contains!r} ({page.status_code})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="client_credentials")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--without-quick-path", action="store_true", help="take idp/oidc/quick_path.py out: the framework answers all"
    )
    parser.add_argument("--postgresql", action="store_true", help="a fresh PostgreSQL database, dropped after")
    parser.add_argument("--save", help="also write the profile to this file (pstats format)")
    parser.add_argument("--callers", help="then who calls the functions matching this")
    parser.add_argument("--callees", help="then what the functions matching this call, e.g. attached")
    args = parser.parse_args()
    database_url = None
    if args.postgresql:
        from tests.conftest import drop_pg_database, make_pg_database

        database_url = make_pg_database()
    try:
        with tempfile.TemporaryDirectory() as folder:
            run(args, Path(folder), database_url)
    finally:
        if database_url:
            from idp.extensions import db

            db.session.remove()
            db.engine.dispose()
            drop_pg_database(database_url)


def run(args, folder: Path, database_url: str | None) -> None:
    app, seed = make_app(folder, database_url)
    if args.without_quick_path:
        app.extensions["quick_path"].enabled = False
    send = scenario_requests(app, seed, args.scenario, args.n)
    for _ in range(50):  # warm-up: caches, first connections
        assert send().status_code == 200
    profiler = cProfile.Profile(time.process_time)
    started, wall = time.process_time(), time.perf_counter()
    if not args.no_profile:
        profiler.enable()
    for _ in range(args.n):
        send()
    profiler.disable()
    cpu_ms = (time.process_time() - started) * 1000 / args.n
    wall_ms = (time.perf_counter() - wall) * 1000 / args.n
    how = "no profiler" if args.no_profile else "cProfile"
    print(f"{args.scenario}: CPU per request {cpu_ms:.3f} ms, wall {wall_ms:.3f} ms ({how})")
    if not args.no_profile:
        stats = pstats.Stats(profiler)
        if args.save:
            stats.dump_stats(args.save)
        print(f"Python function calls per request: {stats.total_calls / args.n:.0f}")  # type: ignore[attr-defined]
        stats.sort_stats(args.sort).print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
        if args.callees:
            stats.print_callees(args.callees)


if __name__ == "__main__":
    main()
