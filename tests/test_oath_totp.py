"""OATH TOTP through the project's own verification path: RFC vectors, drift windows, replay, limits."""

import base64
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from idp import clock
from idp.extensions import db
from idp.methods.oath import service, totp
from idp.methods.oath.models import HardwareOathDevice

RFC_SHA1 = base64.b32encode(b"12345678901234567890").decode()
RFC_SHA256 = base64.b32encode(b"12345678901234567890123456789012").decode()
# RFC 6238 appendix B (30 s), last six digits of the eight-digit values
VECTORS_30 = [
    (59, "287082", "119246"),
    (1111111109, "081804", "084774"),
    (1111111111, "050471", "062674"),
    (1234567890, "005924", "819424"),
    (2000000000, "279037", "698825"),
    (20000000000, "353130", "737706"),
]
# RFC 4226 appendix D: HOTP values of counters 1..9 are the codes of 60 s steps 1..9 (SHA-1)
HOTP = ["287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


def at(seconds: int):
    clock.freeze(datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None))


def token_for(user, secret, interval=30, hash_function="hmacsha1", serial=None):
    device = service.create_device(
        user.tenant_id, serial or f"SN{interval}{hash_function}{user.upn}", secret, interval, hash_function
    )
    method = service.assign(device, user)
    db.session.commit()
    return method


def code(secret, step, hash_function="hmacsha1"):
    return totp.code_at(secret, step, hash_function)


@pytest.mark.parametrize("moment,sha1,sha256", VECTORS_30)
def test_rfc6238_vectors_activate_30s_tokens(app, seed, moment, sha1, sha256):
    at(moment)
    for secret, expected, hash_function in ((RFC_SHA1, sha1, "hmacsha1"), (RFC_SHA256, sha256, "hmacsha256")):
        method = token_for(seed.alice, secret, 30, hash_function, serial=f"{hash_function}-{moment}")
        assert service.activate(method, expected).ok
        assert method.drift == 0 and method.device.status == "activated"
        service.remove(method)
        db.session.commit()


@pytest.mark.parametrize("step", range(1, 10))
def test_rfc4226_values_as_60s_steps(app, seed, step):
    at(step * 60 + 30)
    method = token_for(seed.alice, RFC_SHA1, 60)
    assert service.activate(method, HOTP[step - 1]).ok and method.last_step == step


def test_search_agrees_with_pyotp_for_both_hashes(app):
    secret = totp.new_secret()
    assert len(totp.decode_secret(secret)) * 8 >= 160
    for hash_function in ("hmacsha1", "hmacsha256"):
        searcher = totp.Searcher(secret, hash_function)
        for step in range(1000, 1200):
            assert f"{searcher.code(step):06d}" == code(secret, step, hash_function)


@pytest.mark.parametrize("interval,edge", [(30, 2880), (60, 2880)])  # ±1 day at 30 s, ±2 days at 60 s
def test_activation_window_edges(app, seed, interval, edge):
    at(1_700_000_000)
    secret = RFC_SHA256  # fixed: a random one matches some step of the window by chance about 1 % of the time
    now = totp.step_of(clock.timestamp(), interval)
    for sign in (1, -1):
        method = token_for(seed.alice, secret, interval, serial=f"A{sign}")
        result = service.activate(method, code(secret, now + sign * edge))
        assert not result.ok and result.need_next_code  # inside, but far out: the next code must follow
        assert service.activate(method, code(secret, now + sign * edge + 1)).ok
        assert method.drift == sign * edge + 1
        outside = token_for(seed.admin, secret, interval, serial=f"B{sign}")
        result = service.activate(outside, code(secret, now + sign * (edge + 1)))
        assert not result.ok and not result.need_next_code and outside.device.status == "failedActivation"
        for m in (method, outside):
            service.remove(m)
        db.session.commit()


def test_far_match_needs_the_following_code_exactly(app, seed):
    at(1_700_000_000)
    secret = totp.new_secret()
    now = totp.step_of(clock.timestamp(), 30)
    method = token_for(seed.alice, secret)
    assert service.activate(method, code(secret, now + 500)).need_next_code
    result = service.activate(method, code(secret, now + 502))  # not the following step
    assert not result.ok and method.activated_at is None


@pytest.mark.parametrize("interval,radius", [(30, 2), (60, 2)])  # ±1 minute at 30 s, ±2 minutes at 60 s
def test_signin_window_edges(app, seed, interval, radius):
    from datetime import timedelta

    at(1_700_000_000)
    for user, sign in ((seed.alice, 1), (seed.admin, -1)):
        secret = totp.new_secret()
        method = token_for(user, secret, interval, serial=f"W{sign}")
        start = totp.step_of(clock.timestamp(), interval)
        assert service.activate(method, code(secret, start)).ok and method.drift == 0
        db.session.commit()
        clock.advance(timedelta(seconds=10 * interval))
        now = start + 10
        assert service.verify(user, code(secret, now + sign * (radius + 1)), {"hardware"}) is None  # one step out
        assert service.verify(user, code(secret, now + sign * radius), {"hardware"})  # the edge, inside
        db.session.expire_all()
        assert db.session.get(type(method), method.id).drift == sign * radius
        clock.advance(timedelta(seconds=-10 * interval))


def test_drift_is_carried_and_updated(app, seed):
    at(1_700_000_000)
    secret = totp.new_secret()
    method = token_for(seed.alice, secret)
    now = totp.step_of(clock.timestamp(), 30)
    assert service.activate(method, code(secret, now + 100)).need_next_code
    assert service.activate(method, code(secret, now + 101)).ok
    db.session.commit()
    assert method.drift == 101
    clock.advance(__import__("datetime").timedelta(minutes=10))
    now = totp.step_of(clock.timestamp(), 30)
    # the token keeps running fast: the code is 2 steps beyond the stored drift, inside ±1 minute
    assert service.verify(seed.alice, code(secret, now + 103), {"hardware"})
    db.session.expire_all()
    assert db.session.get(type(method), method.id).drift == 103
    clock.advance(__import__("datetime").timedelta(minutes=10))
    now = totp.step_of(clock.timestamp(), 30)
    assert service.verify(seed.alice, code(secret, now + 105), {"hardware"})  # found only around the new drift
    assert service.verify(seed.alice, code(secret, now + 1), {"hardware"}) is None  # far from the drift


def test_a_code_is_accepted_once(app, seed):
    at(1_700_000_000)
    secret = totp.new_secret()
    method = token_for(seed.alice, secret)
    now = totp.step_of(clock.timestamp(), 30)
    assert service.activate(method, code(secret, now - 1)).ok
    db.session.commit()
    current = code(secret, now)
    assert service.verify(seed.alice, current, {"hardware"})
    assert service.verify(seed.alice, current, {"hardware"}) is None


def test_five_methods_at_most(app, seed):
    for n in range(3):
        token_for(seed.alice, totp.new_secret(), serial=f"T{n}")
    service.start_software_enrolment(seed.alice)
    db.session.commit()
    device = service.create_device(seed.tenant.id, "T4", totp.new_secret(), 30)
    service.assign(device, seed.alice)
    sixth = service.create_device(seed.tenant.id, "T5", totp.new_secret(), 30)
    with pytest.raises(service.OathError, match="at most 5"):
        service.assign(sixth, seed.alice)


@pytest.mark.parametrize(
    "secret,interval,hash_function,fragment",
    [
        ("not*base32", 30, "hmacsha1", "Base32"),
        ("A" * 129, 30, "hmacsha1", "at most 128"),
        ("JBSWY3DPEHPK3PXP", 45, "hmacsha1", "30 or 60"),
        ("JBSWY3DPEHPK3PXP", 30, "md5", "hmacsha1"),
        ("JBSWY3DPEHPK3PXP", 0, "hmacsha1", "HOTP"),
        ("JBSWY3DPEHPK3PXP", 30, "hotp", "HOTP"),
        ("jbswy3dpehpk3pxp", 30, "hmacsha1", None),  # lower case is fine
    ],
)
def test_device_rules(app, seed, secret, interval, hash_function, fragment):
    if fragment is None:
        assert service.create_device(seed.tenant.id, "X1", secret, interval, hash_function)
        return
    with pytest.raises(service.OathError, match=fragment):
        service.create_device(seed.tenant.id, "X1", secret, interval, hash_function)


def test_secrets_are_sealed_at_rest(app, seed):
    secret = totp.new_secret()
    token_for(seed.alice, secret)
    enrolment = service.start_software_enrolment(seed.alice)
    db.session.commit()
    rows = [d.secret for d in db.session.scalars(select(HardwareOathDevice))]
    rows += [m.secret for m in service.methods_of(seed.alice.id) if m.secret]
    assert rows and all(r.startswith("v1.") and secret not in r and enrolment.secret not in r for r in rows)
    assert enrolment.uri.startswith("otpauth://totp/") and "alice%40contoso.test" in enrolment.uri
    assert "issuer=" in enrolment.uri and "<svg" in enrolment.qr_svg
