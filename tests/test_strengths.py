"""Authentication strengths: the Graph resources, an app that requires one, and `acr_values` step-up."""

from datetime import timedelta


from idp import clock
from idp.extensions import db
from idp.methods.oath import service as oath
from idp.oidc.models import Client
from idp.policy import strengths

from .authenticator import VIRTUAL_AAGUID, SoftAuthenticator
from .support import PASSWORD, Agent
from .test_oath_api_and_signin import current_code, enable
from .test_oidc_flow import Rp
from .test_passkeys import YUBI, enable_fido2, msi_agent, passkey_step, register

BASE = "/policies/authenticationStrengthPolicies"


def with_totp(user):
    enable(user.tenant_id, "SoftwareOath")
    enrolment = oath.start_software_enrolment(user)
    clock.advance(timedelta(seconds=-60))
    assert oath.activate(enrolment.method, current_code(enrolment.secret)).ok
    db.session.commit()
    clock.reset()
    return enrolment.secret


def require(seed, strength_id):
    db.session.get(Client, seed.client_id).required_strength_id = strength_id
    db.session.commit()


def sign_in_page(live, seed, **extra):
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url(**extra))
    agent.submit("/login", username="alice@contoso.test")
    return rp, agent


def test_built_in_and_custom_strengths_in_graph(graph_as):
    apa = graph_as("apa")
    listed = {s["id"]: s for s in apa("GET", BASE).json()["value"]}
    assert listed[strengths.PHISHING_RESISTANT]["displayName"] == "Phishing-resistant MFA"
    assert listed[strengths.PHISHING_RESISTANT]["policyType"] == "builtIn"
    assert "password,softwareOath" in listed[strengths.MFA]["allowedCombinations"]
    assert "fido2" in listed[strengths.PASSWORDLESS]["allowedCombinations"]
    created = apa(
        "POST",
        BASE,
        {
            "displayName": "Contoso keys only",
            "allowedCombinations": ["fido2"],
            "combinationConfigurations": [
                {
                    "@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
                    "appliesToCombinations": ["fido2"],
                    "allowedAAGUIDs": [YUBI],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["policyType"] == "custom" and body["combinationConfigurations"][0]["allowedAAGUIDs"] == [YUBI]
    assert apa("GET", f"{BASE}/{body['id']}").json()["displayName"] == "Contoso keys only"
    assert apa("POST", BASE, {"displayName": "x", "allowedCombinations": ["password,carrierPigeon"]}).status_code == 400
    assert apa("POST", BASE, {"displayName": "Contoso keys only", "allowedCombinations": ["fido2"]}).status_code == 409
    assert apa("PATCH", f"{BASE}/{strengths.MFA}", {"displayName": "Mine"}).status_code == 400
    changed = apa(
        "POST",
        f"{BASE}/{body['id']}/updateAllowedCombinations",
        {"allowedCombinations": ["fido2", "password,hardwareOath"]},
    )
    assert changed.json()["currentCombinations"] == ["fido2", "password,hardwareOath"]
    assert graph_as("gr")("POST", BASE, {"displayName": "y", "allowedCombinations": ["fido2"]}).status_code == 403


def test_app_requiring_phishing_resistance_refuses_password_and_totp_and_accepts_a_passkey(app, live, seed):
    secret = with_totp(seed.alice)
    require(seed, strengths.PHISHING_RESISTANT)
    # with only a password and an authenticator app, the sign-in explains what would do
    _, agent = sign_in_page(live, seed)
    assert agent.page.status_code == 400
    assert "requires Phishing-resistant MFA" in agent.text() and "passkey (FIDO2 security key)" in agent.text()
    agent.go("/contoso.test/login/method/password")  # no way round it by going to the password step
    assert agent.page.status_code == 400 and 'id="password"' not in agent.page.text
    assert "requires Phishing-resistant MFA" in agent.text()
    # a password + TOTP sign-in made elsewhere does not satisfy it either: the app asks to step up
    require(seed, None)
    rp, agent = sign_in_page(live, seed)
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/method/oath", otc=current_code(secret))
    agent.submit("/login/kmsi", stay="no")
    assert rp.id_claims(rp.redeem(agent))["acr"] == "mfa"
    require(seed, strengths.PHISHING_RESISTANT)
    again = Rp(live, seed)
    agent.go(again.authorize_url())
    assert "/login/" in agent.page.url and "code=" not in agent.location
    # with a passkey the same app is satisfied, and the ID token names the strength
    enable_fido2(seed.tenant.id)
    key = SoftAuthenticator()
    register(msi_agent(live, seed), key, live)
    rp, agent = sign_in_page(live, seed)
    assert "/login/method/passkey" in agent.page.url
    assert "Other ways to sign in" not in agent.text()  # nothing else could meet the strength
    passkey_step(agent, key, live)
    agent.submit("/login/kmsi", stay="no")
    claims = rp.id_claims(rp.redeem(agent))
    assert claims["acr"] == strengths.PHISHING_RESISTANT and "fido" in claims["amr"]


def test_acr_values_asks_for_a_strength_and_the_sign_in_steps_up(app, live, seed):
    secret = with_totp(seed.alice)
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/method/oath", otc=current_code(secret))
    agent.submit("/login/kmsi", stay="no")
    rp.redeem(agent)
    # an existing MFA session meets the built-in MFA strength: no prompt, and acr names it
    rp = Rp(live, seed)
    agent.go(rp.authorize_url(acr_values=strengths.MFA))
    assert rp.id_claims(rp.redeem(agent))["acr"] == strengths.MFA


def test_custom_strength_limited_to_an_aaguid(app, live, seed, graph_as):
    created = graph_as("apa")(
        "POST",
        BASE,
        {
            "displayName": "Approved keys",
            "allowedCombinations": ["fido2"],
            "combinationConfigurations": [{"appliesToCombinations": ["fido2"], "allowedAAGUIDs": [YUBI]}],
        },
    ).json()
    enable_fido2(seed.tenant.id)
    other, approved = SoftAuthenticator(VIRTUAL_AAGUID), SoftAuthenticator(YUBI)
    agent = msi_agent(live, seed)
    register(agent, other, live, "Other key")
    register(agent, approved, live, "Approved key")
    # the unlisted model proves a passkey, but not this strength: the sign-in says what would
    rp, agent = sign_in_page(live, seed, acr_values=created["id"])
    passkey_step(agent, other, live)
    assert agent.page.status_code == 400 and "requires Approved keys" in agent.text()
    rp, agent = sign_in_page(live, seed, acr_values=created["id"])
    passkey_step(agent, approved, live)
    agent.submit("/login/kmsi", stay="no")
    assert rp.id_claims(rp.redeem(agent))["acr"] == created["id"]
