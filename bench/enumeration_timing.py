"""Does the sign-in's answer time tell whether an account exists? (issue 14: username enumeration by timing.)

Against the server `make bench` runs (granian, PostgreSQL, the default Argon2id cost), one client, requests
interleaved: the username step and the password step (a wrong password) for names that exist and names in the
same domain that do not. Each name is used once, so the smart lockout never answers instead. Prints the medians
and their difference; `make bench` does not run this (`.venv/bin/python bench/enumeration_timing.py`).
"""

import secrets
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (the benchmark's database, seed and server)

SAMPLES = 40


def timed_steps(base: str, setup: dict, upn: str) -> tuple[float, float]:
    """(username step, password step) in ms for one fresh browser-less sign-in with a wrong password."""
    signin = bench.SignIn(base, setup)
    http = requests.Session()
    page = signin._follow(
        http,
        signin._send(
            http,
            "GET",
            f"{base}/contoso.test/oauth2/v2.0/authorize",
            params={
                "client_id": setup["client_id"],
                "response_type": "code",
                "redirect_uri": bench.REDIRECT,
                "scope": "openid",
                "code_challenge": "x" * 43,
                "code_challenge_method": "S256",
            },
        ),
    )
    started = time.perf_counter()
    page = signin._post_form(http, page, "/login/", username=upn)
    username_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    signin._post_form(http, page, "/method/password", password="Not-the-password-1")
    return username_ms, (time.perf_counter() - started) * 1000


def main() -> None:
    bench.fresh_database()
    setup = bench.seed(SAMPLES)
    server = bench.start_ours()
    base = f"http://127.0.0.1:{bench.OURS_PORT}"
    try:
        timed_steps(base, setup, "warm-up@contoso.test")
        existing, absent = [], []
        for upn in setup["secrets"]:  # interleaved: whatever the machine does affects both alike
            existing.append(timed_steps(base, setup, upn))
            absent.append(timed_steps(base, setup, f"nobody-{secrets.token_hex(4)}@contoso.test"))
    finally:
        server.stop()
    for step, index in (("username step", 0), ("password step (wrong password)", 1)):
        have = statistics.median(sample[index] for sample in existing)
        lack = statistics.median(sample[index] for sample in absent)
        print(
            f"{step}: existing {have:.1f} ms, absent {lack:.1f} ms (medians of {SAMPLES}); "
            f"difference {have - lack:+.1f} ms ({(have - lack) / lack * 100:+.0f}%)"
        )


if __name__ == "__main__":
    main()
