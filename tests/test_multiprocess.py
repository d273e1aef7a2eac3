"""Two independent server processes over one PostgreSQL database: state is shared, one-time things
happen once."""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from idp.extensions import db

from .servers import ServerProcess
from .support import forms
from .test_tap_signin import enable_tap, give_tap, prepared_attempts

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_servers(app, tmp_path):
    servers = [ServerProcess(app, tmp_path / "a"), ServerProcess(app, tmp_path / "b")]
    yield servers
    for server in servers:
        server.stop()


class Live:
    def __init__(self, url):
        self.url = url


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_one_time_tap_raced_across_two_processes_succeeds_once(app, seed, two_servers):
    a, b = two_servers
    enable_tap(seed.tenant.id)
    _, code = give_tap(seed.alice, usable_once=True)
    agents = prepared_attempts(Live(a.url), seed, 50)  # every sign-in begins on server A
    barrier = threading.Barrier(50)

    def attempt(index_agent):
        index, agent = index_agent
        target = b if index % 2 else a  # half of them finish on server B
        form = next(f for f in forms(agent.page.text) if "/method/tap" in f["action"])
        url = agent.page.url.replace(a.url, target.url)
        agent.http.close()  # a keep-alive connection left idle may be dropped by the server: start on a fresh one
        barrier.wait(timeout=60)
        response = agent.http.post(url, data={**form["fields"], "tap": code}, allow_redirects=False)
        return response.status_code, response.headers.get("Location", "")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(attempt, enumerate(agents)))
    wins = [r for r in results if r[0] == 302 and "/login/kmsi" in r[1]]
    assert len(wins) == 1
    # the others are refused: the pass is used (400), the smart lockout has counted enough of those failures
    # (429), or the pass is already gone from their choices, which sends them back to their default step
    losers = [r for r in results if r not in wins]
    refused = [r for r in losers if r[0] in (400, 429) or (r[0] == 302 and r[1].endswith("/login/method/password"))]
    assert refused == losers, [r for r in losers if r not in refused]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_sign_in_begun_on_one_process_completes_on_the_other(app, seed, two_servers):
    a, b = two_servers
    from .support import PASSWORD, Agent
    from .test_oidc_errors import authorize

    agent = Agent(a.url)
    agent.go(authorize(Live(a.url), client_id=seed.client_id).url)
    agent.submit("/login", username="alice@contoso.test")
    agent.base = "http://127.0.0.1:"  # both servers (the client's redirect URI still stops it)
    agent.page.url = agent.page.url.replace(a.url, b.url)
    agent.submit("/login/method/password", password=PASSWORD)
    assert agent.page.url.startswith(b.url) and "/login/kmsi" in agent.page.url
    agent.submit("/login/kmsi", stay="no")
    assert "code" in agent.redirect_params()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_lockout_counters_are_shared_by_two_processes(app, seed, two_servers):
    from .support import PASSWORD, Agent
    from .test_mfa_settings import configure
    from .test_oath_api_and_signin import current_code
    from .test_oidc_errors import authorize
    from .test_strengths import with_totp

    a, b = two_servers
    secret = with_totp(seed.alice)
    configure(seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=4)
    agent = Agent(a.url)
    agent.go(authorize(Live(a.url), client_id=seed.client_id).url)
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    agent.base = "http://127.0.0.1:"
    oath_page = agent.page.url
    for server in (a, b, a, b):  # four denials, alternating between the processes
        agent.page.url = oath_page.replace(a.url, server.url)
        agent.submit("/login/method/oath", otc="000000")
        assert "not correct" in agent.text()
    for server in (a, b):  # both refuse now, even the right code
        agent.page.url = oath_page.replace(a.url, server.url)
        agent.submit("/login/method/oath", otc=current_code(secret))
        assert "temporarily locked" in agent.text()


def redis_or_skip(url="redis://127.0.0.1:6379/5"):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return url


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_rate_limits_are_shared_through_redis(app, seed, tmp_path):
    from .support import Agent
    from .test_oidc_errors import authorize

    url = redis_or_skip()
    env = {"RATELIMIT_ENABLED": "1", "REDIS_URL": url}
    servers = [ServerProcess(app, tmp_path / "a", env), ServerProcess(app, tmp_path / "b", env)]
    try:
        a, b = servers
        statuses = []
        for attempt in range(11):  # the per-account limit is 10 failures in 5 minutes, wherever they land
            server = (a, b)[attempt % 2]
            agent = Agent(server.url)
            agent.go(authorize(Live(server.url), client_id=seed.client_id).url)
            agent.submit("/login", username="alice@contoso.test")
            statuses.append(agent.submit("/login/method/password", password="wrong").status_code)
        assert statuses[:10] == [400] * 10 and statuses[10] == 429, statuses
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_redis_down_fails_open_to_per_process_limits(app, seed, tmp_path):
    """Rate-limit storage unreachable: sign-in keeps working (counted per process), never a 500."""
    from .support import PASSWORD, Agent, password_sign_in
    from .test_oidc_errors import authorize

    server = ServerProcess(app, tmp_path / "a", {"RATELIMIT_ENABLED": "1", "REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        agent = Agent(server.url)
        agent.go(authorize(Live(server.url), client_id=seed.client_id).url)
        password_sign_in(agent, "alice@contoso.test", PASSWORD)
        assert "code" in agent.redirect_params()
    finally:
        server.stop()


def _cluster():
    import shutil
    import subprocess

    if os.geteuid() != 0 or not shutil.which("pg_lsclusters"):
        pytest.skip("restarting PostgreSQL needs root and Debian's pg_ctlcluster on this machine")
    line = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.split()
    if len(line) < 4 or line[2] != "5432":
        pytest.skip("no local PostgreSQL cluster on port 5432 to restart")
    return line[0], line[1]


def _wait_for_postgres(seconds=60):
    import psycopg

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=1).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.3)
    raise RuntimeError("PostgreSQL did not come back")


@pytest.mark.restart
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_restart_under_load_gives_503s_then_recovers(app, seed, tmp_path):
    import subprocess

    version, name = _cluster()
    from .support import app_client, app_token

    reader = app_client(seed.tenant, ["User.Read.All"])
    server = ServerProcess(app, tmp_path / "a")
    # Listing users always reads the database; token issuance may be served from the per-process caches of
    # clients, tenants and keys alone, so it would not show the outage.
    bearer = {"Authorization": "Bearer " + app_token(server.url, "contoso.test", *reader)}
    statuses, stop = [], threading.Event()

    def load():
        while not stop.is_set():
            try:
                statuses.append(requests.get(f"{server.url}/v1.0/users", headers=bearer, timeout=10).status_code)
            except requests.RequestException:
                statuses.append("connection error")

    worker = threading.Thread(target=load)
    db.session.remove()
    db.engine.dispose()  # this process holds no connection across the restart
    try:
        worker.start()
        time.sleep(1)
        subprocess.run(["pg_ctlcluster", version, name, "stop", "-m", "fast"], check=True)
        time.sleep(2)
        outage = len(statuses)
    finally:
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)
        _wait_for_postgres()
    time.sleep(3)
    stop.set()
    worker.join(timeout=30)
    server.stop()
    assert 503 in statuses[:outage] and set(statuses) <= {200, 503}, set(statuses)
    assert statuses[-1] == 200  # recovered without restarting the server process


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_email_code_raced_across_two_processes_succeeds_once(app, seed, two_servers):
    import re
    from idp.mailer import OutboxMessage
    from .support import Agent
    from .test_guests import invite

    a, b = two_servers
    _, response = invite(Live(a.url), seed, send=False)
    link = response.json()["inviteRedeemUrl"].replace("http://localhost", a.url)
    agents = []
    for _ in range(20):
        agent = Agent(a.url, stop_at="https://apps.contoso.example")
        agent.go(link)
        agents.append(agent)
    agents[0].submit("/login/method/email_otp", action="send")
    db.session.expire_all()
    code = re.search(r"\b(\d{8})\b", db.session.scalars(db.select(OutboxMessage)).all()[-1].body).group(1)
    barrier = threading.Barrier(20)

    def attempt(index):
        agent = agents[index]
        target = b if index % 2 else a
        form = next(f for f in forms(agent.page.text) if "/method/email_otp" in f["action"])
        url = agent.page.url.replace(a.url, target.url)
        agent.http.close()
        barrier.wait(timeout=60)
        response = agent.http.post(
            url, data={**form["fields"], "otc": code}, allow_redirects=False, headers={"Referer": url}
        )
        return response.status_code == 302 and "/login/kmsi" in response.headers.get("Location", "")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, range(20)))
    assert results.count(True) == 1
