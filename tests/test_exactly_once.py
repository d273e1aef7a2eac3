"""One-time things succeed exactly once under concurrent requests (SQLite here; PostgreSQL in the second
pass of `make test`)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from idp.extensions import db
from idp.methods.oath import service as oath, totp
from idp import clock

from .support import REDIRECT, Agent, forms, password_sign_in
from .test_oidc_flow import Rp, introspect


def race(count, attempt):
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait(timeout=60)
        return attempt(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_an_authorization_code_is_redeemed_once(live, seed):
    """Twenty redemptions at once: at most one gets tokens, and since the other nineteen are replays, which revoke
    what the code gave (RFC 6749 4.1.2), nothing it gave stays usable. The one redemption may also be refused,
    when a replay ran before its tokens were stored (tests/test_security_code_replay.py)."""
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    password_sign_in(agent, "alice@contoso.test")
    code = agent.redirect_params()["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": rp.verifier}
    auth = (seed.client_id, seed.client_secret)
    results = race(20, lambda _: requests.post(rp.meta["token_endpoint"], data=form, auth=auth))
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([200] + [400] * 19, [400] * 20), statuses
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
    for winner in (r.json() for r in results if r.status_code == 200):
        refresh = {"grant_type": "refresh_token", "refresh_token": winner["refresh_token"]}
        assert requests.post(rp.meta["token_endpoint"], data=refresh, auth=auth).status_code == 400
        assert introspect(rp, seed, winner["access_token"])["active"] is False


def test_concurrent_refreshes_one_wins_and_the_family_is_revoked(live, seed):
    """Policy: a refresh token is claimed by exactly one request. Any other presentation of it, concurrent or
    later, is reuse: it gets invalid_grant and revokes the whole family, the winner's new tokens included
    (OAuth 2.0 Security BCP's reuse detection; clients must not refresh the same token in parallel)."""
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    password_sign_in(agent, "alice@contoso.test")
    token = rp.redeem(agent)
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    results = race(
        2, lambda _: requests.post(rp.meta["token_endpoint"], data=form, auth=(seed.client_id, seed.client_secret))
    )
    assert sorted(r.status_code for r in results) == [200, 400]
    winner = next(r for r in results if r.status_code == 200).json()
    assert introspect(rp, seed, winner["refresh_token"], "refresh_token")["active"] is False


def test_an_email_code_signs_in_once(live, seed, app):
    from .test_guests import invite

    _, response = invite(live, seed, send=False)
    link = response.json()["inviteRedeemUrl"].replace("http://localhost", live.url)
    agents = []
    for _ in range(10):
        agent = Agent(live.url, stop_at="https://apps.contoso.example")
        agent.go(link)
        agents.append(agent)
    agents[0].submit("/login/method/email_otp", action="send")  # one code for the address
    from idp.mailer import OutboxMessage
    import re

    body = db.session.scalars(db.select(OutboxMessage)).all()[-1].body
    code = re.search(r"\b(\d{8})\b", body).group(1)

    def attempt(index):
        agent = agents[index]
        form = next(f for f in forms(agent.page.text) if "/method/email_otp" in f["action"])
        agent.http.close()
        response = agent.http.post(
            agent.page.url,
            data={**form["fields"], "otc": code},
            allow_redirects=False,
            headers={"Referer": agent.page.url},
        )
        return response.status_code == 302 and "/login/kmsi" in response.headers["Location"]

    assert race(10, attempt).count(True) == 1
    # the invitation was redeemed once: one success in the sign-in log, the guest Accepted
    from idp.audit.models import SignInLog
    from idp.directory.models import User

    db.session.expire_all()
    guest = db.session.scalar(db.select(User).where(User.user_type == "Guest"))
    assert guest.external_user_state == "Accepted" and guest.redemption_method
    successes = db.session.scalars(
        db.select(SignInLog).where(SignInLog.user_id == guest.id, SignInLog.result == "success")
    ).all()
    assert len(successes) <= 1  # (the winner has not finished "stay signed in?" yet: zero or one, never two)


def test_an_oath_time_step_is_accepted_once(app, seed):
    secret = totp.new_secret()
    enrolment = oath.start_software_enrolment(seed.alice)
    db.session.commit()
    step = totp.step_of(clock.timestamp(), 30)
    assert oath.activate(enrolment.method, totp.code_at(enrolment.secret, step - 1)).ok
    db.session.commit()
    code = totp.code_at(enrolment.secret, step)
    method_id = enrolment.method.id

    def attempt(_):
        with app.app_context():
            from idp.directory.models import User

            user = db.session.get(User, seed.alice.id)
            found = oath.verify(user, code, {"software"})
            won = found is not None and found.id == method_id
            db.session.remove()
            return won

    assert race(20, attempt).count(True) == 1
    assert secret  # a fresh secret was made for the enrolment, not this one


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_two_users_racing_for_one_hardware_token_one_wins(app, live, seed, graph_as, staff):
    from .test_oath_api_and_signin import enable, new_device

    enable(seed.tenant.id, "HardwareOath")
    device = new_device(graph_as("apa")).json()
    paa = graph_as("paa")
    targets = [staff["bob"].id, staff["carol"].id] * 5

    def attempt(index):
        return paa(
            "POST", f"/users/{targets[index]}/authentication/hardwareOathMethods", {"device": {"id": device["id"]}}
        ).status_code

    results = race(10, attempt)
    assert results.count(201) == 1 and results.count(409) == 9, results
    db.session.expire_all()
    from idp.methods.oath.models import OathMethod

    assert len(db.session.scalars(db.select(OathMethod).where(OathMethod.device_id == device["id"])).all()) == 1


class InFlightRotation:
    """A rotation of a refresh token held open on a connection of its own: the claim's row lock taken, its
    successor inserted, not committed. PostgreSQL only (SQLite would lock the whole database)."""

    def __init__(self, app, refresh_token: str):
        from sqlalchemy import create_engine, select, update

        from idp import crypto
        from idp.oidc.models import Token

        self.table = Token.__table__
        self.engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        self.connection = self.engine.connect()
        row = self.connection.execute(
            select(self.table).where(self.table.c.refresh_token_hash == crypto.digest(refresh_token))
        ).one()
        self.family_id = row.family_id
        self.connection.execute(update(self.table).where(self.table.c.id == row.id).values(rotated_at=clock.now()))
        self.successor_id = f"successor-{row.id}"[:36]
        successor = row._asdict() | {
            "id": self.successor_id,
            "jti": "jti-" + self.successor_id,
            "refresh_token_hash": crypto.digest("successor of " + refresh_token),
            "rotated_at": None,
            "issued_at": clock.now(),
        }
        self.connection.execute(self.table.insert().values(successor))

    def commit(self):
        self.committed_at = clock.now()  # before: the waiting request may finish before commit() returns here
        self.connection.commit()

    def close(self):
        self.connection.close()
        self.engine.dispose()

    def successor_revoked(self) -> bool:
        with self.engine.connect() as fresh:
            revoked = fresh.execute(self.table.select().where(self.table.c.id == self.successor_id)).one().revoked_at
        return revoked is not None


def wait_for_a_lock_wait(app, timeout=20.0):
    """Until a backend of the app's database waits for a lock (the request queued behind the open rotation)."""
    import time

    from sqlalchemy import text

    database = app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.session.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"),
            {"db": database},
        ).scalar()
        db.session.rollback()  # a fresh snapshot of the view each time
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the request never waited for the rotation's lock")


def refresh_while_rotation_is_open(live, seed, app, present):
    """Hold a rotation of the grant's current refresh token open, refresh with the grant's first token (`present`
    says whether that is the current one or, rotated once already, an earlier one), and commit the rotation once
    the request waits for its lock: the request's answer and the rotation."""
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    password_sign_in(agent, "alice@contoso.test")
    first = rp.redeem(agent)["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": first}
    auth = (seed.client_id, seed.client_secret)
    current = first
    if present == "an earlier token":
        current = requests.post(rp.meta["token_endpoint"], data=form, auth=auth).json()["refresh_token"]
    rotation = InFlightRotation(app, current)
    try:
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(requests.post, rp.meta["token_endpoint"], data=form, auth=auth, timeout=60)
            wait_for_a_lock_wait(app)
            rotation.commit()
            response = answer.result(timeout=60)
        return response, rotation
    except BaseException:
        rotation.close()
        raise


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("quick_path", [True, False], ids=["below Flask", "framework"])
def test_a_refresh_waiting_for_a_concurrent_rotation_of_its_token_is_reuse(app, live, seed, quick_path):
    """The claim waits for the row lock of the rotation in flight, then finds the token claimed: invalid_grant,
    and the family is revoked, the successor the rotation committed meanwhile included (below Flask, the lost
    claim rolls back and the grant answers)."""
    app.extensions["quick_path"].enabled = quick_path
    response, rotation = refresh_while_rotation_is_open(live, seed, app, "the current token")
    try:
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.text
        assert rotation.successor_revoked()
    finally:
        rotation.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("quick_path", [True, False], ids=["below Flask", "framework"])
def test_reuse_revokes_what_a_rotation_committed_while_it_waited(app, live, seed, quick_path):
    """Reuse of a rotated token revokes the family while the current token's rotation is in flight: the
    revocation waits for that rotation's lock, and its successor, which the waiting UPDATE's snapshot does not
    hold, is revoked too; the grant's revocation time covers the access tokens issued with it."""
    from idp.oidc.models import TokenRevocation

    app.extensions["quick_path"].enabled = quick_path
    response, rotation = refresh_while_rotation_is_open(live, seed, app, "an earlier token")
    try:
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.text
        assert rotation.successor_revoked()
        entry = db.session.get(TokenRevocation, f"grant:{rotation.family_id}")
        assert entry is not None and entry.not_before >= rotation.committed_at
    finally:
        rotation.close()
