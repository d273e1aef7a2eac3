"""Where a sign-in's CPU goes: the benchmark's browser-less sign-in (authorize -> UPN -> password -> TOTP -> stay
signed in? -> code -> token), run in-process through Flask's test client against PostgreSQL, under cProfile.

    .venv/bin/python bench/profile_signin.py [--sign-ins 200] [--top 40] [--sort tottime]

Prints CPU milliseconds per sign-in (this process: the app and the test client, not PostgreSQL) with and
without the one password hash, then the profile's top functions. Uses its own database (idp_profile)."""

import argparse
import base64
import hashlib
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (bench/run.py: the same seed, users and password as make bench)

FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
VERIFIER = "v" * 48
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


class InProcessSignIn:
    def __init__(self, http, setup: dict):
        self.http, self.setup = http, setup

    def _follow(self, response):
        while response.status_code in (301, 302, 303, 307):
            location = response.headers["Location"]
            if location.startswith(bench.REDIRECT):
                return location
            response = self.http.get(location)
        return response

    def _post(self, page, contains: str, **fields):
        for action, body in FORM.findall(page.get_data(as_text=True)):
            if contains in action:
                data = dict(INPUT.findall(body)) | fields
                return self._follow(self.http.post(action, data=data))
        raise RuntimeError(f"no form {contains!r} ({page.status_code})")

    def run(self, upn: str) -> None:
        query = {
            "client_id": self.setup["client_id"],
            "response_type": "code",
            "redirect_uri": bench.REDIRECT,
            "scope": "openid profile offline_access",
            "state": "s",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        }
        page = self._follow(self.http.get("/contoso.test/oauth2/v2.0/authorize", query_string=query))
        page = self._post(page, "/login/", username=upn)
        page = self._post(page, "/method/password", password=bench.PASSWORD)
        page = self._post(page, "/method/oath", otc=pyotp.TOTP(self.setup["secrets"][upn]).now())
        location = self._post(page, "/login/kmsi", stay="no")
        code = parse_qs(urlsplit(location).query)["code"][0]
        token = self.http.post(
            "/contoso.test/oauth2/v2.0/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": bench.REDIRECT,
                "code_verifier": VERIFIER,
            },
            auth=(self.setup["client_id"], self.setup["client_secret"]),
        )
        assert token.status_code == 200, token.get_data(as_text=True)


def package_of(filename: str) -> str:
    """site-packages/sqlalchemy/orm/x.py -> sqlalchemy; idp/signin/flow.py -> idp.signin; C built-ins by name."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/idp/" in filename:
        return "idp." + filename.split("/idp/", 1)[1].split("/", 1)[0].removesuffix(".py")
    return "python (stdlib, built-ins)" if filename.startswith(("/", "~", "<")) else filename


def print_by_package(stats: pstats.Stats, sign_ins: int) -> None:
    """Own time (tottime) summed per package, in milliseconds per sign-in."""
    totals: dict[str, float] = {}
    for (filename, _, name), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        key = "argon2 (the password hash)" if "argon2" in name else package_of(filename)
        totals[key] = totals.get(key, 0.0) + own
    print("own time per sign-in by package (ms, under cProfile):")
    for key, seconds in sorted(totals.items(), key=lambda item: -item[1])[:15]:
        print(f"  {seconds * 1000 / sign_ins:7.1f}  {key}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sign-ins", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--only", help="then a cumulative listing restricted to paths matching this, e.g. /idp/")
    parser.add_argument("--database", default="idp_profile", help="its own database (dropped and re-created)")
    args = parser.parse_args()

    bench.DB_NAME = args.database
    bench.DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{bench.DB_NAME}"
    bench.ENV["DATABASE_URL"] = bench.DATABASE_URL
    bench.ENV["IDP_INSTANCE_PATH"] = f"/tmp/{args.database}-instance"
    bench.fresh_database()
    setup = bench.seed(args.sign_ins + 20)
    os.environ.update({k: v for k, v in bench.ENV.items() if k != "IDP_COUNT_SQL"})

    from idp import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": bench.DATABASE_URL,
            "SECRET_KEY": bench.ENV["SECRET_KEY"],
            "IDP_ENCRYPTION_KEYS": bench.ENV["IDP_ENCRYPTION_KEYS"],
            "RATELIMIT_ENABLED": False,
        }
    )
    upns = list(setup["secrets"])
    for upn in upns[:10]:  # warm-up: caches, templates, first connections
        InProcessSignIn(app.test_client(), setup).run(upn)
    hash_ms = bench.password_hash_ms(setup["password_hash"])
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for upn in upns[10 : 10 + args.sign_ins]:
        InProcessSignIn(app.test_client(), setup).run(upn)
    profiler.disable()
    cpu_ms = (time.process_time() - started) * 1000 / args.sign_ins
    print(f"CPU per sign-in (under cProfile): {cpu_ms:.1f} ms; password hash {hash_ms:.1f} ms")
    stats = pstats.Stats(profiler)
    print_by_package(stats, args.sign_ins)
    stats.sort_stats(args.sort).print_stats(args.top)
    if args.only:
        stats.sort_stats("cumtime").print_stats(args.only, args.top)


if __name__ == "__main__":
    main()
