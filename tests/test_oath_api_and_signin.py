"""OATH through the admin API, the CSV import job, and sign-in as a second factor."""

import csv
import io
import time

import pytest
from sqlalchemy import select

from idp import clock
from idp.audit.models import SignInLog
from idp.extensions import db
from idp.methods.oath import service, totp
from idp.methods.oath.models import HardwareOathDevice
from idp.policy import service as policy

from .support import PASSWORD, Agent, GraphClient, app_client, app_token
from .test_oidc_flow import Rp

DEVICES = "/directory/authenticationMethodDevices/hardwareOathDevices"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enable(tenant_id, *method_ids):
    for method_id in method_ids:
        config = policy.get(tenant_id, method_id)
        config.state = "enabled"
        policy.save(tenant_id, config)
    db.session.commit()


def new_device(graph, serial="1001", **extra):
    body = {
        "serialNumber": serial,
        "secretKey": SECRET,
        "timeIntervalInSeconds": 30,
        "hashFunction": "hmacsha1",
        "manufacturer": "Contoso",
        "model": "Key",
        **extra,
    }
    return graph("POST", DEVICES, body)


def current_code(secret=SECRET, interval=30):
    """The token's current code (pyotp refuses secrets under 112 bits, which hardware tokens may have)."""
    step = totp.step_of(clock.timestamp(), interval)
    return f"{totp.Searcher(secret, 'hmacsha1').code(step):06d}"


def test_inventory_crud_and_the_secret_is_write_only(graph_as):
    apa = graph_as("apa")
    created = new_device(apa)
    assert created.status_code == 201, created.text
    device = created.json()
    assert "secretKey" not in device and device["status"] == "available" and device["assignedTo"] is None
    listed = apa("GET", DEVICES).json()["value"]
    assert [d["serialNumber"] for d in listed] == ["1001"] and all("secretKey" not in d for d in listed)
    assert SECRET not in apa("GET", f"{DEVICES}/{device['id']}").text
    assert apa("PATCH", f"{DEVICES}/{device['id']}", {"displayName": "Desk token", "model": "K2"}).status_code == 204
    assert apa("GET", f"{DEVICES}/{device['id']}").json()["displayName"] == "Desk token"
    refused = apa("PATCH", f"{DEVICES}/{device['id']}", {"secretKey": "AAAAAAAAAAAAAAAA"})
    assert refused.status_code == 400 and "secret key" in refused.json()["error"]["message"]
    assert new_device(apa).status_code == 409  # serial numbers are unique per tenant
    assert apa("DELETE", f"{DEVICES}/{device['id']}").status_code == 204


@pytest.mark.parametrize(
    "extra,fragment",
    [
        ({"secretKey": "not base32!"}, "Base32"),
        ({"secretKey": "A" * 129}, "at most 128"),
        ({"timeIntervalInSeconds": 45}, "30 or 60"),
        ({"timeIntervalInSeconds": 0}, "HOTP"),
        ({"hashFunction": "hotp"}, "HOTP"),
        ({"hashFunction": "md5"}, "hmacsha1"),
        ({"counter": 1}, "counter"),
    ],
)
def test_inventory_refuses_bad_tokens(graph_as, extra, fragment):
    response = new_device(graph_as("apa"), **extra)
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]


def test_inventory_roles(graph_as, live, seed):
    assert new_device(graph_as("aa")).status_code == 403
    assert new_device(graph_as("gr")).status_code == 403
    assert graph_as("gr")("GET", DEVICES).status_code == 200
    assert graph_as("bob")("GET", DEVICES).status_code == 403
    writer = GraphClient(
        live.url,
        app_token(live.url, "contoso.test", *app_client(seed.tenant, ["Policy.ReadWrite.AuthenticationMethod"])),
    )
    assert new_device(writer, "2002").status_code == 201


def test_assignment_activation_and_unassignment(graph_as, staff):
    apa, aa = graph_as("apa"), graph_as("aa")
    device = new_device(apa).json()
    base = "/users/bob@contoso.test/authentication/hardwareOathMethods"
    assigned = aa("POST", base, {"device": {"id": device["id"]}})
    assert assigned.status_code == 201, assigned.text
    method = assigned.json()
    assert set(method["device"]) == {"id", "displayName"}  # an Authentication Administrator's limited read
    again = graph_as("paa")(
        "POST", "/users/carol@contoso.test/authentication/hardwareOathMethods", {"device": {"id": device["id"]}}
    )
    assert again.status_code == 409
    assert apa("GET", f"{DEVICES}/{device['id']}").json()["status"] == "assigned"
    wrong = aa("POST", f"{base}/{method['id']}/activate", {"verificationCode": "000000"})
    assert wrong.status_code == 400
    assert apa("GET", f"{DEVICES}/{device['id']}").json()["status"] == "failedActivation"
    ok = aa("POST", f"{base}/{method['id']}/activate", {"verificationCode": current_code(), "displayName": "Bob's key"})
    assert ok.status_code == 204, ok.text
    full = graph_as("paa")("GET", f"{base}/{method['id']}").json()
    assert full["device"]["status"] == "activated" and full["device"]["assignedTo"]["id"] == staff["bob"].id
    assert apa("DELETE", f"{DEVICES}/{device['id']}").status_code == 409  # still assigned
    assert aa("DELETE", f"{base}/{method['id']}").status_code == 204
    back = apa("GET", f"{DEVICES}/{device['id']}").json()
    assert back["status"] == "available" and back["assignedTo"] is None


def test_assignment_roles(graph_as, staff):
    device = new_device(graph_as("apa")).json()
    assert (
        graph_as("aa")(
            "POST", "/users/carol@contoso.test/authentication/hardwareOathMethods", {"device": {"id": device["id"]}}
        ).status_code
        == 403
    )  # an admin: not for AA
    assert (
        graph_as("gr")(
            "POST", "/users/bob@contoso.test/authentication/hardwareOathMethods", {"device": {"id": device["id"]}}
        ).status_code
        == 403
    )
    own = graph_as("bob")(
        "POST", "/users/bob@contoso.test/authentication/hardwareOathMethods", {"device": {"id": device["id"]}}
    )
    assert own.status_code == 201  # users may assign a token to themselves


def test_software_methods_listed_and_deleted_never_with_secret(graph_as, staff):
    enrolment = service.start_software_enrolment(staff["bob"])
    assert service.activate(enrolment.method, current_code(enrolment.secret)).ok
    db.session.commit()
    paa = graph_as("paa")
    listed = paa("GET", "/users/bob@contoso.test/authentication/softwareOathMethods").json()["value"]
    assert len(listed) == 1 and listed[0]["secretKey"] is None
    assert (
        enrolment.secret
        not in paa("GET", f"/users/bob@contoso.test/authentication/softwareOathMethods/{listed[0]['id']}").text
    )
    assert (
        paa("DELETE", f"/users/bob@contoso.test/authentication/softwareOathMethods/{listed[0]['id']}").status_code
        == 204
    )


def test_sixth_oath_method_is_refused(graph_as, staff):
    apa, paa = graph_as("apa"), graph_as("paa")
    base = "/users/bob@contoso.test/authentication/hardwareOathMethods"
    for n in range(5):
        device = new_device(apa, f"S{n}").json()
        assert paa("POST", base, {"device": {"id": device["id"]}}).status_code == 201
    sixth = new_device(apa, "S5").json()
    refused = paa("POST", base, {"device": {"id": sixth["id"]}})
    assert refused.status_code == 400 and "at most 5" in refused.json()["error"]["message"]


def wait_for(graph, job_id):
    for _ in range(200):
        job = graph("GET", f"{DEVICES}/import/{job_id}").json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


BAD_FILE = """upn,serial number,secret key,time interval,manufacturer,model,hash function
alice@contoso.test,1234567,JBSWY3DPEHPK3PXP,60,Contoso,HardwareKey,sha256
,7654321,JBSWY3DPEHPK3PXP,30,Contoso,HardwareKey,sha1
,BAD32,JBSWY3DP*HPK3PXP,30,Contoso,HardwareKey,sha1
,LONG,{long},30,Contoso,HardwareKey,sha1
,I45,JBSWY3DPEHPK3PXP,45,Contoso,HardwareKey,sha1
nobody@contoso.test,NOUSER,JBSWY3DPEHPK3PXP,30,Contoso,HardwareKey,sha1
,7654321,JBSWY3DPEHPK3PXP,30,Contoso,HardwareKey,sha1
,HOTP1,JBSWY3DPEHPK3PXP,0,Contoso,HardwareKey,hotp
""".format(long="A" * 129)


def test_csv_import_with_every_kind_of_bad_row(graph_as, seed):
    apa = graph_as("apa")
    started = apa.http.post(f"{apa.base}/beta{DEVICES}/import", data=BAD_FILE, headers={"Content-Type": "text/csv"})
    assert started.status_code == 202, started.text
    job = wait_for(apa, started.json()["id"])
    assert (job["status"], job["totalRows"], job["importedRows"], job["failedRows"]) == ("completed", 8, 2, 6)
    errors = apa("GET", f"{DEVICES}/import/{job['id']}/errors")
    rows = list(csv.DictReader(io.StringIO(errors.text)))
    assert list(rows[0].keys()) == ["Line", "SerialNumber", "UserPrincipalName", "Reason"]
    reasons = {int(r["Line"]): r["Reason"] for r in rows}
    assert "Base32" in reasons[4] and "at most 128" in reasons[5] and "30 or 60" in reasons[6]
    assert "no user 'nobody@contoso.test'" in reasons[7] and "more than once" in reasons[8] and "HOTP" in reasons[9]
    alice_token = db.session.scalar(select(HardwareOathDevice).where(HardwareOathDevice.serial_number == "1234567"))
    assert alice_token.assigned_to == seed.alice.id and alice_token.hash_function == "hmacsha256"
    assert alice_token.time_interval == 60
    # the same file again, as multipart this time: no duplicates
    again = apa.http.post(
        f"{apa.base}/beta{DEVICES}/import", files={"file": ("tokens.csv", BAD_FILE.encode(), "text/csv")}
    )
    job2 = wait_for(apa, again.json()["id"])
    assert job2["status"] == "completed"
    assert db.session.scalar(select(db.func.count()).select_from(HardwareOathDevice)) == 2


def test_csv_without_header_fails_clearly(graph_as):
    apa = graph_as("apa")
    started = apa.http.post(
        f"{apa.base}/beta{DEVICES}/import",
        data="a@b.c,1,JBSWY3DPEHPK3PXP,30,x,y\n",
        headers={"Content-Type": "text/csv"},
    )
    job = wait_for(apa, started.json()["id"])
    assert job["status"] == "failed" and "header row" in job["message"]


def oath_sign_in(live, seed, upn, code_value):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    agent.submit("/login", username=upn)
    agent.submit("/login/method/password", password=PASSWORD)
    assert agent.page.url.endswith("/login/method/oath"), agent.page.url
    assert 'autocomplete="one-time-code"' in agent.page.text
    agent.submit("/login/method/oath", otc=code_value)
    return rp, agent


def test_oath_is_the_second_factor(live, seed):
    enable(seed.tenant.id, "SoftwareOath")
    enrolment = service.start_software_enrolment(seed.alice)
    clock.advance(__import__("datetime").timedelta(seconds=-60))
    assert service.activate(enrolment.method, current_code(enrolment.secret)).ok
    db.session.commit()
    clock.reset()
    rp, agent = oath_sign_in(live, seed, "alice@contoso.test", "000000")
    assert agent.page.status_code == 400 and "not correct" in agent.text()
    db.session.expire_all()
    denial = db.session.scalars(select(SignInLog).where(SignInLog.result == "failure")).all()[-1]
    assert denial.failure_reason == "invalid OATH code" and denial.methods == ["password", "oath"]
    agent.submit("/login/method/oath", otc=current_code(enrolment.secret))
    agent.submit("/login/kmsi", stay="no")
    claims = rp.id_claims(rp.redeem(agent))
    assert {"pwd", "otp", "mfa"} <= set(claims["amr"]) and claims["acr"] == "mfa"


def test_policy_decides_which_kinds_count(live, seed):
    enable(seed.tenant.id, "SoftwareOath")
    enrolment = service.start_software_enrolment(seed.alice)
    assert service.activate(enrolment.method, current_code(enrolment.secret)).ok
    db.session.commit()
    config = policy.get(seed.tenant.id, "SoftwareOath")
    config.state = "disabled"
    policy.save(seed.tenant.id, config)
    db.session.commit()
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    # registered MFA is never skipped because its method was switched off: the sign-in says none is left
    assert agent.page.status_code == 400 and "More information required" in agent.text()
    assert "code" not in agent.redirect_params()


def test_wrong_codes_reach_the_mfa_denial_hooks(live, seed):
    from idp.signin import hooks as flow

    enable(seed.tenant.id, "SoftwareOath")
    enrolment = service.start_software_enrolment(seed.alice)
    assert service.activate(enrolment.method, current_code(enrolment.secret)).ok
    db.session.commit()
    seen = []
    flow.mfa_denial_hooks.append(lambda txn, user, method: seen.append((user.id, method.name)))
    try:
        oath_sign_in(live, seed, "alice@contoso.test", "000000")
    finally:
        flow.mfa_denial_hooks.pop()
    assert seen == [(seed.alice.id, "oath")]


def test_self_service_hardware_token_by_serial(live, seed):
    enable(seed.tenant.id, "HardwareOath")
    device = service.create_device(seed.tenant.id, "HW-77", SECRET, 30, "hmacsha1", "Contoso", "K1")
    db.session.commit()
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/")
    from .support import password_sign_in

    password_sign_in(agent, "alice@contoso.test")
    assert "Add a hardware token" in agent.text() and "Add an authenticator app" not in agent.text()
    agent.go("/contoso.test/mysecurityinfo/oath/token")
    agent.submit("", serial="NOPE", code="123456")
    assert agent.page.status_code == 400 and "No available token" in agent.text()
    agent.submit("", serial="HW-77", code=current_code())
    assert "Hardware token" in agent.text() and "serial HW-77" in agent.text()
    db.session.expire_all()
    assert db.session.get(HardwareOathDevice, device.id).status == "activated"
    # the same password-only session may not add a second method now that one exists
    agent.go("/contoso.test/mysecurityinfo/oath/token")
    assert agent.page.status_code == 403 and "sign in again with your existing one" in agent.text()
    # an MFA sign-in may
    other = Agent(live.url)
    other.go("/contoso.test/mysecurityinfo/oath/token")
    other.submit("/login", username="alice@contoso.test")
    other.submit("/login/method/password", password=PASSWORD)
    clock.advance(__import__("datetime").timedelta(seconds=30))
    other.submit("/login/method/oath", otc=current_code())
    other.submit("/login/kmsi", stay="no")
    assert other.page.status_code == 200 and "Add a hardware token" in other.text()


# --- issue 15 ------------------------------------------------------------------------------------------------


def code_at_offset(steps, secret=SECRET, interval=30):
    step = totp.step_of(clock.timestamp(), interval) + steps
    return f"{totp.Searcher(secret, 'hmacsha1').code(step):06d}"


def wrong_code(secret=SECRET, interval=30):
    """A code that matches no step of the activation window (a random one would, 0.6 % of the time)."""
    searcher, now = totp.Searcher(secret, "hmacsha1"), totp.step_of(clock.timestamp(), interval)
    return next(
        c for c in (f"{n:06d}" for n in range(1000)) if searcher.find(c, now, totp.activation_radius(interval)) is None
    )


@pytest.mark.parametrize(
    "extra,fragment",
    [
        ({"hashFunction": ["hmacsha1"]}, "hashFunction"),
        ({"manufacturer": 7}, "manufacturer"),
        ({"model": {"name": "Key"}}, "model"),
        ({"displayName": "n" * 257}, "displayName"),
        ({"model": "m" * 257}, "model"),
    ],
)
def test_inventory_post_validates_every_property_like_patch(graph_as, extra, fragment):
    apa = graph_as("apa")
    response = new_device(apa, **extra)
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]
    assert db.session.scalar(select(db.func.count()).select_from(HardwareOathDevice)) == 0


def test_csv_import_rejects_long_names_and_known_serials_and_always_ends(graph_as, seed):
    apa = graph_as("apa")
    existing = new_device(apa, serial="KNOWN-1").json()
    rows = (
        "upn,serial number,secret key,time interval,manufacturer,model\n"
        f",GOOD-1,{SECRET},30,Contoso,K1\n"
        f",LONG-1,{SECRET},30,Contoso,{'m' * 257}\n"
        f"alice@contoso.test,KNOWN-1,{SECRET},30,Contoso,K1\n"
        f",GOOD-2,{SECRET},30,Contoso,K1\n"
    )
    started = apa.http.post(f"{apa.base}/beta{DEVICES}/import", data=rows, headers={"Content-Type": "text/csv"})
    job = wait_for(apa, started.json()["id"])
    assert (job["status"], job["importedRows"], job["failedRows"]) == ("completed", 2, 2)
    reasons = {
        int(r["Line"]): r["Reason"]
        for r in csv.DictReader(io.StringIO(apa("GET", f"{DEVICES}/import/{job['id']}/errors").text))
    }
    assert "model" in reasons[3] and "256" in reasons[3]
    assert reasons[4] == "A token with this serial number already exists."
    assert apa("GET", f"{DEVICES}/{existing['id']}").json()["assignedTo"] is None  # not re-assigned
    serials = set(db.session.scalars(select(HardwareOathDevice.serial_number)))
    assert serials == {"KNOWN-1", "GOOD-1", "GOOD-2"}


def test_a_wrong_code_in_my_security_info_assigns_nothing(live, seed):
    from .support import password_sign_in

    enable(seed.tenant.id, "HardwareOath")
    device = service.create_device(seed.tenant.id, "HW-88", SECRET, 30, "hmacsha1", "Contoso", "K1")
    db.session.commit()
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/oath/token")
    password_sign_in(agent, "alice@contoso.test")
    agent.submit("", serial="HW-88", code=wrong_code())
    assert agent.page.status_code == 400 and "not valid for this token" in agent.text()
    db.session.expire_all()
    token = db.session.get(HardwareOathDevice, device.id)
    assert (token.assigned_to, token.status) == (None, "available")
    assert db.session.scalar(select(db.func.count()).select_from(service.OathMethod)) == 0
    agent.submit("", serial="HW-88", code=current_code())
    db.session.expire_all()
    assert db.session.get(HardwareOathDevice, device.id).status == "activated"


def test_graph_activate_takes_one_code_inside_the_drift_window_and_renames_only_on_success(graph_as, staff):
    apa, aa = graph_as("apa"), graph_as("aa")
    device = new_device(apa, displayName="Spare key").json()
    base = "/users/bob@contoso.test/authentication/hardwareOathMethods"
    method = aa("POST", base, {"device": {"id": device["id"]}}).json()
    wrong = aa("POST", f"{base}/{method['id']}/activate", {"verificationCode": wrong_code(), "displayName": "Renamed"})
    assert wrong.status_code == 400
    assert graph_as("paa")("GET", f"{base}/{method['id']}").json()["displayName"] != "Renamed"
    drifted = code_at_offset(40)  # 20 minutes fast: far outside the sign-in window, inside the activation one
    ok = aa("POST", f"{base}/{method['id']}/activate", {"verificationCode": drifted, "displayName": "Bob's key"})
    assert ok.status_code == 204, ok.text
    full = graph_as("paa")("GET", f"{base}/{method['id']}").json()
    assert full["device"]["status"] == "activated" and full["displayName"] == "Bob's key"


def test_every_refusal_is_logged_one_way_with_the_methods_tried(live, seed):
    """One sign-in log row per outcome, written by one function: the factors proved so far and the one that
    failed (a wrong password, then a wrong second factor, then a disabled account at the second step)."""
    enable(seed.tenant.id, "SoftwareOath")
    enrolment = service.start_software_enrolment(seed.alice)
    assert service.activate(enrolment.method, current_code(enrolment.secret)).ok
    db.session.commit()

    def last_failure():
        db.session.expire_all()
        row = db.session.scalars(select(SignInLog).order_by(SignInLog.created_at.desc()).limit(1)).one()
        return row.result, row.upn, row.methods, row.failure_reason

    wrong_password = Agent(live.url)
    wrong_password.go(Rp(live, seed).authorize_url())
    wrong_password.submit("/login", username="alice@contoso.test")
    wrong_password.submit("/login/method/password", password="not-the-password")
    assert last_failure()[:3] == ("failure", "alice@contoso.test", ["password"])

    oath_sign_in(live, seed, "alice@contoso.test", "000000")
    assert last_failure()[:3] == ("failure", "alice@contoso.test", ["password", "oath"])

    agent = Agent(live.url)
    agent.go(Rp(live, seed).authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    seed.alice.account_enabled = False
    db.session.commit()
    clock.advance(__import__("datetime").timedelta(seconds=30))
    agent.submit("/login/method/oath", otc=current_code(enrolment.secret))
    assert last_failure() == ("failure", "alice@contoso.test", ["password", "oath"], "The user account is disabled.")
