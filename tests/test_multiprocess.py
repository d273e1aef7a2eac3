"""Two independent server processes over one PostgreSQL database: state is shared, one-time things
happen once."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

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
        agent.http.close()  # gunicorn drops idle keep-alive connections after 2 s: start on a fresh one
        barrier.wait(timeout=60)
        response = agent.http.post(url, data={**form["fields"], "tap": code}, allow_redirects=False)
        return response.status_code, response.headers.get("Location", "")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(attempt, enumerate(agents)))
    wins = [r for r in results if r[0] == 302 and "/login/kmsi" in r[1]]
    assert len(wins) == 1
    assert all(status == 400 for status, _ in results if (status, _) not in wins)


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
