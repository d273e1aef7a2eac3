"""Passkeys: policy, self-service registration under every policy branch, sign-in (username-first,
username-less, as a second factor), attestation against a test FIDO metadata BLOB, provisioning by API."""

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from idp import clock, i18n
from idp.audit.models import AuditLog
from idp.directory import service as directory
from idp.extensions import db
from idp.methods.passkey import mds
from idp.methods.passkey.models import Passkey
from idp.policy import service as policy

from .authenticator import VIRTUAL_AAGUID, Pki, SoftAuthenticator, mds_blob, mds_entry
from .support import PASSWORD, Agent, enable_method, password_sign_in
from .test_oidc_flow import Rp
from .test_tap_signin import enable_tap, give_tap, tap_sign_in

YUBI = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
FIDO2_PATH = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2"
DOC_BODY = {
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "isAttestationEnforced": False,
    "keyRestrictions": {
        "isEnforced": True,
        "enforcementType": "allow",
        "aaGuids": ["7e3f3d30-3557-4442-bdae-139312178b39"],
    },
}


def enable_fido2(tenant_id, **settings):
    enable_method(tenant_id, "Fido2", **settings)


def restrict(tenant_id, kind, *aaguids):
    enable_fido2(tenant_id, keyRestrictions={"isEnforced": True, "enforcementType": kind, "aaGuids": list(aaguids)})


def webauthn_options(page_text: str) -> dict:
    found = re.search(r'<script type="application/json" class="webauthn-options">(.*?)</script>', page_text, re.S)
    assert found, page_text[:1500]
    return json.loads(found.group(1))


def msi_agent(live, seed, user=None):
    """A browser signed in to My Security Info with a fresh one-time TAP (the way a newcomer starts)."""
    user = user or seed.alice
    enable_tap(seed.tenant.id)
    _, code = give_tap(user, usable_once=True)
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/")
    tap_sign_in(agent, user.upn, code)
    assert agent.page.url.endswith("/mysecurityinfo/"), agent.page.url
    return agent


def register(agent, authenticator, live, name="My key"):
    page = agent.go("/contoso.test/mysecurityinfo/passkey")
    if page.status_code != 200:
        return page
    credential = authenticator.create(webauthn_options(page.text), live.url)
    return agent.submit("/mysecurityinfo/passkey", credential=json.dumps(credential), display_name=name)


def passkey_step(agent, authenticator, live, **kwargs):
    """On the passkey step page: answer its challenge."""
    assertion = authenticator.get(webauthn_options(agent.page.text), live.url, **kwargs)
    return agent.submit("/login/method/passkey", credential=json.dumps(assertion))


def start_sign_in(live, seed, upn="alice@contoso.test"):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    agent.submit("/login", username=upn)
    return rp, agent


# --- policy ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/beta/authenticationMethodsPolicy/authenticationMethodConfigurations/FIDO2",
        "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2",
        "/v1.0/authenticationMethodsPolicy/authenticationMethodConfigurations/FIDO2",
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2",
    ],
)
def test_the_documented_request_body_works_verbatim(graph_as, live, path):
    apa = graph_as("apa")
    version, rest = path.split("/", 2)[1:]
    response = apa("PATCH", "/" + rest, DOC_BODY, version=version)
    assert response.status_code == 204, response.text
    stored = apa("GET", FIDO2_PATH).json()
    assert stored["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethodConfiguration"
    assert stored["isAttestationEnforced"] is False and stored["isSelfServiceRegistrationAllowed"] is True
    assert stored["keyRestrictions"] == DOC_BODY["keyRestrictions"]


@pytest.mark.parametrize(
    "restrictions,fragment",
    [
        ({"isEnforced": True, "enforcementType": "allow", "aaGuids": ["not-a-guid"]}, "not an AAGUID"),
        (
            {"isEnforced": True, "enforcementType": "allow", "aaGuids": ["7e3f3d30355744429bdae139312178b39"]},
            "not an AAGUID",
        ),
        ({"isEnforced": True, "enforcementType": "deny", "aaGuids": []}, "'allow' or 'block'"),
        ({"isEnforced": "yes", "enforcementType": "allow", "aaGuids": []}, "isEnforced"),
        ("all", "must be an object"),
    ],
)
def test_malformed_key_restrictions_are_refused_and_nothing_changes(graph_as, restrictions, fragment):
    apa = graph_as("apa")
    before = apa("GET", FIDO2_PATH).json()
    response = apa("PATCH", FIDO2_PATH, {"keyRestrictions": restrictions, "state": "enabled"})
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]
    assert apa("GET", FIDO2_PATH).json() == before


def test_console_switch_adds_the_microsoft_authenticator_aaguids(app, live, seed):
    agent = Agent(live.url)
    agent.go("/contoso.test/admin/policies/Fido2")
    password_sign_in(agent, "admin@contoso.test")
    agent.go("/contoso.test/admin/policies/Fido2")
    agent.submit(
        "",
        state="enabled",
        microsoftAuthenticator="on",
        **{
            "keyRestrictions.isEnforced": "on",
            "keyRestrictions.enforcementType": "allow",
            "keyRestrictions.aaGuids": YUBI,
        },
    )
    db.session.expire_all()
    restrictions = policy.get(seed.tenant.id, "Fido2").settings["keyRestrictions"]
    assert restrictions == {
        "isEnforced": True,
        "enforcementType": "allow",
        "aaGuids": [YUBI, "90a3ccdf-635c-4729-a248-9b709135078f", "de1e552d-db1d-4423-a619-566b625cdc84"],
    }
    assert 'id="microsoft-authenticator" checked' in agent.page.text.replace("\n    ", " ")


# --- registration ------------------------------------------------------------------------------------


def test_register_after_a_tap_then_sign_in_with_the_passkey_alone(app, live, seed):
    enable_fido2(seed.tenant.id)
    key = SoftAuthenticator()
    agent = msi_agent(live, seed)
    page = agent.go("/contoso.test/mysecurityinfo/passkey")
    options = webauthn_options(page.text)
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["name"] == "alice@contoso.test"
    agent.submit(
        "/mysecurityinfo/passkey", credential=json.dumps(key.create(options, live.url)), display_name="Desk key"
    )
    assert agent.page.url.endswith("/mysecurityinfo/")
    assert "Desk key" in agent.text() and f"AAGUID {VIRTUAL_AAGUID}" in agent.text() and "not attested" in agent.text()
    # the same authenticator cannot be registered twice: its credential is excluded
    again = webauthn_options(agent.go("/contoso.test/mysecurityinfo/passkey").text)
    assert [c["id"] for c in again["excludeCredentials"]] == list(key.credentials)
    # sign in with the passkey alone: phishing-resistant MFA
    rp, fresh = start_sign_in(live, seed)
    assert "/login/method/passkey" in fresh.page.url
    passkey_step(fresh, key, live)
    fresh.submit("/login/kmsi", stay="no")
    claims = rp.id_claims(rp.redeem(fresh))
    assert {"fido", "hwk", "mfa"} <= set(claims["amr"]) and "pwd" not in claims["amr"]


def test_self_service_off_not_targeted_and_stale_sign_in_are_explained(app, live, seed):
    enable_fido2(seed.tenant.id, isSelfServiceRegistrationAllowed=False)
    agent = msi_agent(live, seed)
    page = agent.go("/contoso.test/mysecurityinfo/passkey")
    assert page.status_code == 403 and "does not let you register passkeys yourself" in agent.text()
    group = directory.create_group(seed.tenant, "No passkeys")
    directory.add_member(group, seed.alice)
    config = policy.get(seed.tenant.id, "Fido2")
    config.settings["isSelfServiceRegistrationAllowed"] = True
    config.exclude_targets = [{"id": group.id, "targetType": "group"}]
    policy.save(seed.tenant.id, config)
    db.session.commit()
    page = agent.go("/contoso.test/mysecurityinfo/passkey")
    assert page.status_code == 403 and "has not enabled passkeys for you" in agent.text()
    # a one-time TAP allows registration for 10 minutes only
    config.exclude_targets = []
    policy.save(seed.tenant.id, config)
    db.session.commit()
    assert agent.go("/contoso.test/mysecurityinfo/passkey").status_code == 200
    clock.advance(timedelta(minutes=10, seconds=1))
    page = agent.go("/contoso.test/mysecurityinfo/passkey")
    assert page.status_code == 403 and "10 minutes" in agent.text()


def test_password_only_session_must_sign_in_again_with_mfa(app, live, seed):
    enable_fido2(seed.tenant.id)
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test")
    page = agent.go("/contoso.test/mysecurityinfo/passkey")
    assert page.status_code == 403 and "recent sign-in with multifactor" in agent.text()
    assert "Sign in again" in agent.text()


@pytest.mark.parametrize(
    "kind,listed,allowed",
    [("allow", True, True), ("allow", False, False), ("block", True, False), ("block", False, True)],
)
def test_key_restrictions_at_registration(app, live, seed, kind, listed, allowed):
    restrict(seed.tenant.id, kind, *([YUBI] if listed else []))
    agent = msi_agent(live, seed)
    response = register(agent, SoftAuthenticator(aaguid=YUBI), live)
    if allowed:
        assert agent.page.url.endswith("/mysecurityinfo/")
        assert db.session.scalar(select(Passkey.aaguid)) == YUBI
    else:
        assert response.status_code == 403 and "not allowed by your organization" in agent.text()  # as over Graph
        assert db.session.scalar(select(Passkey.id)) is None


def test_removing_an_allowed_aaguid_stops_sign_in_with_keys_registered_under_it(app, live, seed):
    restrict(seed.tenant.id, "allow", YUBI)
    key = SoftAuthenticator(aaguid=YUBI)
    register(msi_agent(live, seed), key, live)
    restrict(seed.tenant.id, "allow", VIRTUAL_AAGUID)
    _, agent = start_sign_in(live, seed)
    agent.go("/contoso.test/login/method/passkey")
    assert "/login/method/passkey" in agent.page.url  # still offered: the refusal must say why
    response = passkey_step(agent, key, live)
    assert response.status_code == 400
    assert "security key model is not allowed by your organization" in agent.text()


def test_external_guest_cannot_register_or_be_provisioned(app, live, seed, graph_as):
    enable_fido2(seed.tenant.id)
    guest = directory.create_user(
        seed.tenant, "gina_partner.example#EXT#@contoso.test", "Gina", guest="external", mail="gina@partner.example"
    )
    db.session.commit()
    response = graph_as("ga")("GET", f"/users/{guest.id}/authentication/fido2Methods/creationOptions")
    assert response.status_code == 403 and "Guests from another organization" in response.json()["error"]["message"]


# --- attestation ---------------------------------------------------------------------------------------


@pytest.fixture
def metadata(app, tmp_path):
    """A test MDS root, a vendor whose keys attest, and the BLOB listing that vendor's AAGUID."""
    root, vendor = Pki("Test MDS Root"), Pki("Test Vendor Attestation Root")
    (tmp_path / "mds-root.pem").write_bytes(root.pem)
    app.config["IDP_FIDO_MDS_ROOT_CERT"] = str(tmp_path / "mds-root.pem")
    mds.load(mds_blob(root, [mds_entry(YUBI, vendor, "Test Key 5")]), "test")
    db.session.commit()
    return root, vendor


@pytest.mark.parametrize(
    "authenticator,outcome",
    [
        ("valid", "attested"),
        ("other-vendor", "refused"),
        ("self", "refused"),
        ("none", "refused"),
        ("unlisted", "refused"),
    ],
)
def test_attestation_enforced(app, live, seed, metadata, authenticator, outcome):
    _, vendor = metadata
    enable_fido2(seed.tenant.id, isAttestationEnforced=True)
    key = {
        "valid": SoftAuthenticator(YUBI, "packed", vendor),
        "other-vendor": SoftAuthenticator(YUBI, "packed", Pki("Counterfeit Vendor")),
        "self": SoftAuthenticator(YUBI, "self"),
        "none": SoftAuthenticator(YUBI, "none"),
        "unlisted": SoftAuthenticator(VIRTUAL_AAGUID, "packed", vendor),
    }[authenticator]
    agent = msi_agent(live, seed)
    response = register(agent, key, live)
    stored = db.session.scalar(select(Passkey))
    if outcome == "attested":
        assert stored.attestation_level == "attested" and stored.model == "Test Key 5"
        assert "Test Key 5" in agent.text() and "· attested" in agent.text()
    else:  # one status and one message for every attestation refusal, a chain that fails to verify included
        assert stored is None and response.status_code == 403
        assert "make and model can be verified" in agent.text()


def test_enforcing_attestation_later_keeps_earlier_passkeys_working(app, live, seed, metadata):
    enable_fido2(seed.tenant.id)
    key = SoftAuthenticator(VIRTUAL_AAGUID, "none")
    register(msi_agent(live, seed), key, live)
    enable_fido2(seed.tenant.id, isAttestationEnforced=True)
    _, agent = start_sign_in(live, seed)
    passkey_step(agent, key, live)
    assert "/login/kmsi" in agent.page.url


def test_a_bad_mds_blob_is_refused(app, tmp_path, metadata):
    root, vendor = metadata
    forged = mds_blob(Pki("Someone Else"), [mds_entry(VIRTUAL_AAGUID, vendor)], serial=2)
    with pytest.raises(mds.MetadataError, match="chain"):
        mds.load(forged, "test")
    tampered = mds_blob(root, [mds_entry(VIRTUAL_AAGUID, vendor)], serial=3).split(b".")
    tampered[1] = mds_blob(root, [mds_entry(YUBI, Pki("x"))], serial=4).split(b".")[1]
    with pytest.raises(mds.MetadataError, match="signature"):
        mds.load(b".".join(tampered), "test")
    with pytest.raises(mds.MetadataError, match="older"):
        mds.load(mds_blob(root, [], serial=0), "test")
    assert mds.entry(YUBI)["description"] == "Test Key 5"


# --- sign-in -----------------------------------------------------------------------------------------


def registered(live, seed, **key_args):
    enable_fido2(seed.tenant.id)
    key = SoftAuthenticator(**key_args)
    register(msi_agent(live, seed), key, live)
    return key


def test_username_less_sign_in_with_a_discoverable_passkey(app, live, seed):
    key = registered(live, seed)
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    options = webauthn_options(agent.page.text)  # on the username page, for any credential
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    assert 'autocomplete="username webauthn"' in agent.page.text
    agent.submit("/login/without-username/passkey", credential=json.dumps(key.get(options, live.url)))
    agent.submit("/login/kmsi", stay="no")
    claims = rp.id_claims(rp.redeem(agent))
    assert claims["preferred_username"] == "alice@contoso.test" and "fido" in claims["amr"]


def test_passkey_as_the_second_factor_after_a_password(app, live, seed):
    key = registered(live, seed)
    rp, agent = start_sign_in(live, seed)
    agent.go("/contoso.test/login/method/password")
    agent.submit("/login/method/password", password=PASSWORD)
    assert "/login/method/passkey" in agent.page.url
    passkey_step(agent, key, live)
    agent.submit("/login/kmsi", stay="no")
    assert {"pwd", "fido", "mfa"} <= set(rp.id_claims(rp.redeem(agent))["amr"])


def test_wrong_signature_replayed_challenge_and_counter_regression(app, live, seed):
    key = registered(live, seed)
    _, agent = start_sign_in(live, seed)
    options = webauthn_options(agent.page.text)
    assertion = key.get(options, live.url)
    forged = {
        **assertion,
        "response": {**assertion["response"], "signature": assertion["response"]["signature"][:-4] + "AAAA"},
    }
    assert agent.submit("/login/method/passkey", credential=json.dumps(forged)).status_code == 400
    # the challenge was spent by the failed attempt: replaying the good answer to it fails too
    agent.go("/contoso.test/login/method/passkey")
    assert agent.submit("/login/method/passkey", credential=json.dumps(assertion)).status_code == 400
    # a counter that goes backwards is logged (synced passkeys report 0, so it does not block)
    db.session.execute(Passkey.__table__.update().values(sign_count=50))
    db.session.commit()
    agent.go("/contoso.test/login/method/passkey")
    passkey_step(agent, key, live)
    assert "/login/kmsi" in agent.page.url
    logged = db.session.scalar(select(AuditLog).where(AuditLog.activity == "Passkey sign counter regression"))
    assert logged is not None


def test_upn_change_keeps_the_passkey_and_msi_says_the_name_is_outdated(app, live, seed):
    key = registered(live, seed)
    alice = db.session.get(type(seed.alice), seed.alice.id)
    alice.upn = "alice.smith@contoso.test"
    db.session.commit()
    _, agent = start_sign_in(live, seed, "alice.smith@contoso.test")
    passkey_step(agent, key, live)
    agent.submit("/login/kmsi", stay="no")
    agent.go("/contoso.test/mysecurityinfo/")
    assert "still shows this passkey as alice@contoso.test" in agent.text()
    assert "register it again" in agent.text()


# --- admin API and provisioning ------------------------------------------------------------------------


def creation_path(user_id, minutes=None):
    suffix = f"(challengeTimeoutInMinutes={minutes})" if minutes is not None else ""
    return f"/users/{user_id}/authentication/fido2Methods/creationOptions{suffix}"


def test_provisioning_on_behalf_of_a_user(app, live, seed, graph_as, staff):
    enable_fido2(seed.tenant.id)
    aa = graph_as("aa")
    bob = staff["bob"]
    options = aa("GET", creation_path(bob.id, 10), version="beta").json()
    expires = datetime.strptime(options["challengeTimeoutDateTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(expires - clock.now() - timedelta(minutes=10)) < timedelta(seconds=30)
    assert options["publicKey"]["user"]["name"] == "bob@contoso.test"
    assert options["publicKey"]["authenticatorSelection"]["residentKey"] == "required"
    key = SoftAuthenticator(aaguid=YUBI)
    credential = key.create(options["publicKey"], live.url)
    body = {
        "displayName": "Bob's key",
        "publicKeyCredential": {"id": credential["id"], "response": credential["response"]},
    }
    created = aa("POST", f"/users/{bob.id}/authentication/fido2Methods", body, version="beta")
    assert created.status_code == 201, created.text
    assert created.json()["aaGuid"] == YUBI and created.json()["attestationLevel"] == "notAttested"
    # the challenge was single-use
    again = key.create(options["publicKey"], live.url)
    reused = aa(
        "POST",
        f"/users/{bob.id}/authentication/fido2Methods",
        {"publicKeyCredential": {"id": again["id"], "response": again["response"]}},
        version="beta",
    )
    assert reused.status_code == 400 and "expired or was already used" in reused.json()["error"]["message"]
    listed = aa("GET", f"/users/{bob.id}/authentication/fido2Methods").json()["value"]
    assert [m["displayName"] for m in listed] == ["Bob's key"]
    assert set(listed[0]) >= {"id", "aaGuid", "model", "displayName", "createdDateTime", "attestationLevel"}
    assert aa("GET", f"/users/{bob.id}/authentication/fido2Methods/{listed[0]['id']}").json()["id"] == listed[0]["id"]


def test_provisioning_challenge_expires(app, live, seed, graph_as, staff):
    enable_fido2(seed.tenant.id)
    aa = graph_as("aa")
    options = aa("GET", creation_path(staff["bob"].id), version="beta").json()
    clock.advance(timedelta(minutes=5, seconds=1))  # default timeout: 5 minutes
    credential = SoftAuthenticator().create(options["publicKey"], live.url)
    late = aa(
        "POST",
        f"/users/{staff['bob'].id}/authentication/fido2Methods",
        {"publicKeyCredential": {"id": credential["id"], "response": credential["response"]}},
        version="beta",
    )
    assert late.status_code == 400 and "expired" in late.json()["error"]["message"]


@pytest.mark.parametrize("minutes", ["4", "43201", "ten", "-5"])
def test_creation_options_timeout_range(graph_as, seed, staff, minutes):
    enable_fido2(seed.tenant.id)
    response = graph_as("aa")("GET", creation_path(staff["bob"].id, minutes), version="beta")
    assert response.status_code == 400 and "challengeTimeoutInMinutes" in response.json()["error"]["message"]


def test_provisioning_roles_and_policy(app, live, seed, graph_as, staff):
    enable_fido2(seed.tenant.id)
    assert graph_as("gr")("GET", creation_path(staff["bob"].id), version="beta").status_code == 403
    assert graph_as("aa")("GET", creation_path(staff["carol"].id), version="beta").status_code == 403  # an admin
    assert graph_as("paa")("GET", creation_path(staff["carol"].id, 43200), version="beta").status_code == 200
    restrict(seed.tenant.id, "block", YUBI)
    options = graph_as("aa")("GET", creation_path(staff["bob"].id), version="beta").json()
    credential = SoftAuthenticator(aaguid=YUBI).create(options["publicKey"], live.url)
    blocked = graph_as("aa")(
        "POST",
        f"/users/{staff['bob'].id}/authentication/fido2Methods",
        {"publicKeyCredential": {"id": credential["id"], "response": credential["response"]}},
        version="beta",
    )
    assert blocked.status_code == 403 and "not allowed by your organization" in blocked.json()["error"]["message"]


def test_delete_a_passkey_by_api(app, live, seed, graph_as):
    registered(live, seed)
    ga = graph_as("ga")
    listed = ga("GET", f"/users/{seed.alice.id}/authentication/fido2Methods").json()["value"]
    assert ga("DELETE", f"/users/{seed.alice.id}/authentication/fido2Methods/{listed[0]['id']}").status_code == 204
    assert ga("GET", f"/users/{seed.alice.id}/authentication/fido2Methods").json()["value"] == []
    assert ga("GET", f"/users/{seed.alice.id}/authentication/fido2Methods/{listed[0]['id']}").status_code == 404


def test_metadata_blob_from_the_configured_path_and_by_console_upload(app, live, seed, tmp_path):
    root, vendor = Pki("Test MDS Root"), Pki("Vendor")
    (tmp_path / "root.pem").write_bytes(root.pem)
    (tmp_path / "blob.jwt").write_bytes(mds_blob(root, [mds_entry(YUBI, vendor, "Key From File")], serial=1))
    app.config.update(IDP_FIDO_MDS_ROOT_CERT=str(tmp_path / "root.pem"), IDP_FIDO_MDS_PATH=str(tmp_path / "blob.jwt"))
    assert mds.entry(YUBI)["description"] == "Key From File"  # loaded on first need
    agent = Agent(live.url)
    agent.go("/contoso.test/admin/passkeys/metadata")
    password_sign_in(agent, "admin@contoso.test")
    page = agent.go("/contoso.test/admin/passkeys/metadata")
    assert "BLOB number 1" in agent.text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def upload(blob):
        return agent.http.post(
            page.url, data={"csrf_token": token}, files={"blob": ("blob.jwt", blob)}, headers={"Referer": page.url}
        )

    forged = upload(mds_blob(Pki("Someone Else"), [mds_entry(YUBI, vendor, "Forged")], serial=5))
    assert forged.status_code == 400 and "does not lead to the configured root" in forged.text
    agent.http.cookies.set(i18n.COOKIE, "ja")  # the same refusal on a Japanese page: in Japanese
    older = upload(mds_blob(root, [mds_entry(YUBI, vendor, "Old")], serial=0))
    assert (
        older.status_code == 400
        and "この BLOB (番号 0) は、読み込み済みの BLOB (番号 1) より古いものです。" in older.text
    )
    assert "is older than" not in older.text
    agent.http.cookies.set(i18n.COOKIE, "en")
    assert upload(mds_blob(root, [mds_entry(YUBI, vendor, "Key From Upload")], serial=2)).status_code == 200
    db.session.expire_all()
    assert mds.entry(YUBI)["description"] == "Key From Upload"
    assert "Load FIDO metadata BLOB" in [a.activity for a in db.session.scalars(select(AuditLog))]


# --- issue 15 ---------------------------------------------------------------------------------------------


def test_synced_passkeys_are_refused_device_bound_ones_accepted(app, live, seed, graph_as, staff):
    """Entra's passkeys page: the Fido2 policy supports device-bound passkeys (security keys, Authenticator)."""
    enable_fido2(seed.tenant.id)
    agent = msi_agent(live, seed)
    refused = register(agent, SoftAuthenticator(synced=True), live)
    assert refused.status_code == 403 and "synced passkey" in agent.text()
    assert db.session.scalar(select(Passkey)) is None
    aa = graph_as("aa")
    options = aa("GET", creation_path(staff["bob"].id)).json()
    credential = SoftAuthenticator(synced=True).create(options["publicKey"], live.url)
    api = aa(
        "POST",
        f"/users/{staff['bob'].id}/authentication/fido2Methods",
        {"publicKeyCredential": {"id": credential["id"], "response": credential["response"]}},
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "Authorization_RequestDenied"
    assert register(agent, SoftAuthenticator(), live).status_code in (200, 302)
    assert db.session.scalar(select(Passkey)) is not None


def test_an_attestation_chain_that_fails_is_refused_like_the_others_by_api(app, live, seed, metadata, graph_as, staff):
    enable_fido2(seed.tenant.id, isAttestationEnforced=True)
    aa = graph_as("aa")
    for key in (SoftAuthenticator(YUBI, "packed", Pki("Counterfeit Vendor")), SoftAuthenticator(YUBI, "none")):
        options = aa("GET", creation_path(staff["bob"].id)).json()
        credential = key.create(options["publicKey"], live.url)
        refused = aa(
            "POST",
            f"/users/{staff['bob'].id}/authentication/fido2Methods",
            {"publicKeyCredential": {"id": credential["id"], "response": credential["response"]}},
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "Authorization_RequestDenied")
        assert "make and model can be verified" in refused.json()["error"]["message"]


def test_a_member_asking_creation_options_for_herself_is_not_called_an_administrator(graph_as, seed, staff):
    enable_fido2(seed.tenant.id)
    own = graph_as("bob")("GET", creation_path(staff["bob"].id))
    assert own.status_code == 403 and "Administrators" not in own.json()["error"]["message"]


@pytest.mark.parametrize(
    "suffix,params",
    [
        ("()", {}),
        ("(challengeTimeoutInMinutes=@t)", {"@t": "10"}),
        ("(challengeTimeoutInMinutes=10)", {}),
    ],
)
def test_creation_options_in_every_odata_call_form(graph_as, seed, staff, suffix, params):
    enable_fido2(seed.tenant.id)
    path = f"/users/{staff['bob'].id}/authentication/fido2Methods/creationOptions{suffix}"
    response = graph_as("aa")("GET", path, params=params)
    assert response.status_code == 200, response.text
    expires = datetime.strptime(response.json()["challengeTimeoutDateTime"], "%Y-%m-%dT%H:%M:%SZ")
    minutes = 10 if params or "=10" in suffix else 5
    assert abs(expires - clock.now() - timedelta(minutes=minutes)) < timedelta(seconds=30)


@pytest.mark.parametrize(
    "suffix,params,fragment",
    [
        ("(challengeTimeoutInMinutes=@t)", {}, "alias"),
        ("(other=1)", {}, "not a parameter"),
        ("(challengeTimeoutInMinutes=1,challengeTimeoutInMinutes=2)", {}, "twice"),
        ("(challengeTimeoutInMinutes='x')", {}, "whole number"),
    ],
)
def test_creation_options_refuses_bad_calls_with_400(graph_as, seed, staff, suffix, params, fragment):
    enable_fido2(seed.tenant.id)
    path = f"/users/{staff['bob'].id}/authentication/fido2Methods/creationOptions{suffix}"
    response = graph_as("aa")("GET", path, params=params)
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]
