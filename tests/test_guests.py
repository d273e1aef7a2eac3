"""B2B guests: invitations, tenant context, email one-time passcodes over a real SMTP server, home accounts."""

import re
import time
from datetime import timedelta

import requests

from idp import clock
from idp.directory import service as directory
from idp.extensions import db
from idp.policy import service as policy

from .smtp import free_port, point_mail_at, wait_for
from .support import (
    PASSWORD,
    REDIRECT,
    Agent,
    GraphClient,
    admin_tool,
    delegated_token,
    forms,
    password_sign_in,
)
from .test_oidc_flow import Rp

GUEST = "gina@partner.example"
LANDING = "https://apps.contoso.example/welcome"


def invite(live, seed, address=GUEST, send=True, **extra):
    graph = GraphClient(
        live.url, delegated_token(live.url, "contoso.test", admin_tool(seed.tenant), "admin@contoso.test")
    )
    response = graph(
        "POST",
        "/invitations",
        {
            "invitedUserEmailAddress": address,
            "inviteRedirectUrl": LANDING,
            "sendInvitationMessage": send,
            "invitedUserDisplayName": "Gina",
            **extra,
        },
    )
    return graph, response


def set_email_otp(tenant_id, value):
    config = policy.get(tenant_id, "Email")
    config.settings["allowExternalIdToUseEmailOtp"] = value
    policy.save(tenant_id, config)
    db.session.commit()


def open_invitation(live, link):
    agent = Agent(live.url, stop_at=LANDING)
    agent.go(link.replace("http://localhost", live.url))
    return agent


def redeem_with_code(agent, inbox, address=GUEST):
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: inbox.to(address))
    agent.submit("/login/method/email_otp", otc=inbox.last_code(address))
    return agent


def test_invitation_mail_and_the_whole_redemption(live, seed, smtp):
    graph, response = invite(live, seed)
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation["status"] == "PendingAcceptance" and invitation["invitedUserEmailAddress"] == GUEST
    assert f"/{seed.tenant.id}/redeem/" in invitation["inviteRedeemUrl"]
    assert wait_for(lambda: smtp.to(GUEST))
    body = smtp.to(GUEST)[0].get_payload(decode=True).decode()
    assert "Contoso Admin" in body or "Admin" in body and invitation["inviteRedeemUrl"] in body
    agent = open_invitation(live, invitation["inviteRedeemUrl"])
    assert "We'll send a code to gina@partner.example" in agent.text()
    agent.submit("/login/method/email_otp", action="send")
    assert "We sent a code" in agent.text() and wait_for(lambda: len(smtp.to(GUEST)) == 2)
    mail = smtp.to(GUEST)[1].get_payload(decode=True).decode()
    assert "invited by Admin" in mail and f"/{seed.tenant.id}/report" in mail
    agent.submit("/login/method/email_otp", otc=smtp.last_code(GUEST))
    assert agent.location == LANDING  # no "stay signed in?" for external guests
    user = graph("GET", f"/users/{invitation['invitedUser']['id']}").json()
    assert user["externalUserState"] == "Accepted" and user["userType"] == "Guest"
    guest = directory.find_user(seed.tenant, invitation["invitedUser"]["id"])
    db.session.refresh(guest)
    assert guest.redemption_method == "email_otp"


def test_codes_expire_after_30_minutes_and_a_new_code_voids_the_old(live, seed, smtp):
    _, response = invite(live, seed, send=False)
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: smtp.to(GUEST))
    old = smtp.last_code(GUEST)
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: len(smtp.to(GUEST)) == 2)
    new = smtp.last_code(GUEST)
    agent.submit("/login/method/email_otp", otc=old)
    assert agent.page.status_code == 400 and "not correct" in agent.text()
    clock.advance(timedelta(minutes=31))
    agent.submit("/login/method/email_otp", otc=new)
    assert "expired" in agent.text()


def test_five_wrong_codes_void_the_code(live, seed, smtp):
    _, response = invite(live, seed, send=False)
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: smtp.to(GUEST))
    good = smtp.last_code(GUEST)
    wrong = f"{(int(good) + 1) % 10**8:08d}"
    for _ in range(5):
        agent.submit("/login/method/email_otp", otc=wrong)
    assert "Too many wrong codes" in agent.text()
    agent.submit("/login/method/email_otp", otc=good)
    assert "Send yourself a new code" in agent.text() and agent.page.status_code == 400


def test_send_rate_limit(live, seed, smtp):
    _, response = invite(live, seed, send=False)
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])
    for _ in range(5):
        agent.submit("/login/method/email_otp", action="send")
    agent.submit("/login/method/email_otp", action="send")
    assert agent.page.status_code == 400 and "Too many codes were requested" in agent.text()
    assert wait_for(lambda: len(smtp.to(GUEST)) == 5) and len(smtp.to(GUEST)) == 5


def test_guest_session_and_tokens_end_24_hours_after_the_code(live, seed, smtp):
    invite(live, seed, send=False)
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    agent.submit("/login", username=GUEST)
    redeem_with_code(agent, smtp)
    token = rp.redeem(agent)
    claims = rp.id_claims(token)
    assert claims["exp"] <= clock.timestamp() + 24 * 3600
    clock.advance(timedelta(hours=23))
    agent.go(rp.authorize_url(prompt="none"))
    assert "code" in agent.redirect_params()
    clock.advance(timedelta(hours=1, minutes=1))
    agent.go(rp.authorize_url(prompt="none"))
    assert agent.redirect_params()["error"] == "login_required"
    refreshed = requests.post(
        rp.meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(seed.client_id, seed.client_secret),
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_tenant_context_entry_points(live, seed, smtp):
    invite(live, seed, send=False)
    for path in (f"/?tenantid={seed.tenant.id}", f"/{seed.tenant.id}", "/contoso.test"):
        response = requests.get(live.url + path, allow_redirects=True)
        assert response.url.endswith(("/login/",)) and "Sign in" in response.text, path
        agent = Agent(live.url)
        agent.go(path)
        agent.submit("/login", username=GUEST)
        assert agent.page.url.endswith("/login/method/email_otp"), path
    # tenant-less entries: members find their organization, guests are told to use a tenant link
    for entry in ("/common/login/", "/organizations/login/"):
        member = Agent(live.url)
        member.go(entry)
        member.submit("", username="alice@contoso.test")
        assert member.page.url.endswith(f"/{seed.tenant.id}/login/method/password")
        guest = Agent(live.url)
        guest.go(entry)
        guest.submit("", username=GUEST)
        assert guest.page.status_code == 400 and "link that contains the organization" in guest.text()
    # an app's authorize URL under /common: a single-tenant app is refused as Entra does (AADSTS50194); for a
    # multi-tenant app members are fine, guests refused with the explanation
    rp = Rp(live, seed)
    url = rp.authorize_url().replace("/contoso.test/", "/common/").replace(f"/{seed.tenant.id}/", "/common/")
    single = Agent(live.url)
    single.go(url)
    assert single.redirect_params()["error_codes"] == "50194" and single.redirect_params()["state"]
    from idp.oidc.models import Client

    db.session.get(Client, seed.client_id).sign_in_audience = "AzureADMultipleOrgs"
    db.session.commit()
    guest = Agent(live.url)
    guest.go(url)
    guest.submit("/login", username=GUEST)
    assert guest.page.status_code == 400 and "link that contains the organization" in guest.text()
    member = Agent(live.url)
    member.go(url)
    password_sign_in(member, "alice@contoso.test")
    code = member.redirect_params()["code"]
    token = requests.post(
        f"{live.url}/common/oauth2/v2.0/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": rp.verifier},
        auth=(seed.client_id, seed.client_secret),
    )
    assert token.status_code == 200 and rp.id_claims(token.json())["tid"] == seed.tenant.id


def test_setting_values_and_redemption_reset(live, seed, smtp):
    graph, response = invite(live, seed, send=False)
    link, guest_id = response.json()["inviteRedeemUrl"], response.json()["invitedUser"]["id"]
    set_email_otp(seed.tenant.id, "enabled")
    redeem_with_code(open_invitation(live, link), smtp)
    set_email_otp(seed.tenant.id, "disabled")
    agent = Agent(live.url)
    agent.go("/contoso.test/login/")
    agent.submit("/login", username=GUEST)  # not offered a "Send code" that would be refused
    assert agent.page.status_code == 400 and "turned off sign-in with one-time passcodes" in agent.text()
    assert "Send code" not in agent.text() and "/login/method/email_otp" not in agent.page.text
    set_email_otp(seed.tenant.id, "default")  # default means enabled
    agent.go("/contoso.test/login/method/email_otp")
    agent.submit("/login/method/email_otp", action="send")
    assert agent.page.status_code == 200 and "We sent a code" in agent.text()
    reset = graph(
        "POST",
        "/invitations",
        {
            "invitedUserEmailAddress": GUEST,
            "inviteRedirectUrl": LANDING,
            "resetRedemption": True,
            "invitedUser": {"id": guest_id},
        },
    )
    assert reset.status_code == 201 and reset.json()["status"] == "PendingAcceptance"


def test_home_account_guest_signs_in_at_home(live, seed, smtp):
    fabrikam = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    directory.create_user(fabrikam, "bob@fabrikam.test", "Bob", PASSWORD)
    db.session.commit()
    _, response = invite(live, seed, address="bob@fabrikam.test", send=False)
    agent = Agent(live.url, stop_at=LANDING)
    agent.go(response.json()["inviteRedeemUrl"].replace("http://localhost", live.url))
    assert agent.page.url.endswith("/login/method/home_account") and "Sign in at Fabrikam" in agent.text()
    home_link = next(a for a in __import__("re").findall(r'href="([^"]+)"', agent.page.text) if "return_to" in a)
    agent.go(home_link.replace("&amp;", "&"))
    password_sign_in(agent, "bob@fabrikam.test")
    assert agent.page.url.endswith("/login/method/home_account") and "signed in to" in agent.text()
    agent.submit("/login/method/home_account")
    assert agent.location == LANDING
    guest = directory.find_by_sign_in_name(seed.tenant, "bob@fabrikam.test")
    db.session.refresh(guest)
    assert guest.redemption_method == "home_account" and guest.external_user_state == "Accepted"


def test_email_otp_redeemers_keep_it_after_gaining_a_home_account(live, seed, smtp):
    _, response = invite(live, seed, address="carl@later.test", send=False)
    redeem_with_code(open_invitation(live, response.json()["inviteRedeemUrl"]), smtp, "carl@later.test")
    later = directory.create_tenant("Later", ["later.test"])
    directory.create_user(later, "carl@later.test", "Carl", PASSWORD)
    db.session.commit()
    agent = Agent(live.url)
    agent.go("/contoso.test/login/")
    agent.submit("/login", username="carl@later.test")
    assert agent.page.url.endswith("/login/method/email_otp")


def test_smtp_down_says_so_and_keeps_the_previous_code(live, seed, smtp, app):
    _, response = invite(live, seed, send=False)
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: smtp.to(GUEST))
    code = smtp.last_code(GUEST)
    point_mail_at(app, free_port())  # nothing listens there
    agent.submit("/login/method/email_otp", action="send")
    assert agent.page.status_code == 400 and "couldn't send the code" in agent.text()
    agent.submit("/login/method/email_otp", otc=code)  # the earlier code was not voided
    assert agent.location == LANDING


def test_invitation_refused_when_mail_fails_leaves_nothing(live, seed, app):
    point_mail_at(app, free_port())
    graph, response = invite(live, seed, send=True)
    assert response.status_code == 503
    assert directory.find_by_sign_in_name(seed.tenant, GUEST) is None


def test_dev_mailbox_only_in_dev_mode(live, seed, app):
    invite(live, seed, send=True)  # no MAIL_SERVER: the outbox
    assert requests.get(f"{live.url}/_dev/mailbox").status_code == 404
    app.config["IDP_DEV_MODE"] = True
    page = requests.get(f"{live.url}/_dev/mailbox")
    assert page.status_code == 200 and "invited you" in page.text and GUEST in page.text


def test_guests_who_redeemed_otherwise_keep_their_method(live, seed, smtp):
    fabrikam = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    directory.create_user(fabrikam, "dana@fabrikam.test", "Dana", PASSWORD)
    db.session.commit()
    set_email_otp(seed.tenant.id, "disabled")
    _, response = invite(live, seed, address="dana@fabrikam.test", send=False)
    guest = directory.find_by_sign_in_name(seed.tenant, "dana@fabrikam.test")
    from idp.methods.email_otp import service as email_otp

    email_otp.redeem(guest, "home_account")  # redeemed at home while email OTP was off
    db.session.commit()
    set_email_otp(seed.tenant.id, "enabled")
    agent = Agent(live.url)
    agent.go("/contoso.test/login/")
    agent.submit("/login", username="dana@fabrikam.test")
    assert agent.page.url.endswith("/login/method/home_account")
    assert "Email one-time passcode" not in agent.text()


def test_a_guest_who_did_mfa_at_home_gets_acr_mfa(live, seed, smtp):
    from idp.signin.models import SigninSession

    from .test_oath_api_and_signin import current_code
    from .test_strengths import with_totp

    fabrikam = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    bob = directory.create_user(fabrikam, "bob@fabrikam.test", "Bob", PASSWORD)
    db.session.commit()
    secret = with_totp(bob)
    _, response = invite(live, seed, address="bob@fabrikam.test", send=False)
    agent = Agent(live.url, stop_at=LANDING)
    agent.go(response.json()["inviteRedeemUrl"].replace("http://localhost", live.url))
    home_link = next(a for a in re.findall(r'href="([^"]+)"', agent.page.text) if "return_to" in a)
    agent.go(home_link.replace("&amp;", "&"))
    agent.submit("/login", username="bob@fabrikam.test")
    agent.submit("/login/method/password", password=PASSWORD)
    agent.submit("/login/method/oath", otc=current_code(secret))
    agent.submit("/login/kmsi", stay="no")
    agent.submit("/login/method/home_account")
    assert agent.location == LANDING
    guest = directory.find_by_sign_in_name(seed.tenant, "bob@fabrikam.test")
    session = db.session.scalar(db.select(SigninSession).where(SigninSession.user_id == guest.id))
    assert "mfa" in session.amr and session.acr == "mfa"


def test_security_info_offers_guests_only_what_they_may_add(live, seed, smtp):
    from .test_oath_api_and_signin import enable
    from .test_passkeys import enable_fido2

    enable(seed.tenant.id, "SoftwareOath", "HardwareOath")
    enable_fido2(seed.tenant.id)
    _, response = invite(live, seed, send=False)
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])
    redeem_with_code(agent, smtp)
    agent.go(f"/{seed.tenant.id}/mysecurityinfo/")
    assert agent.page.status_code == 200
    for label in ("Add a passkey", "Add an authenticator app", "Add a hardware token"):
        assert label not in agent.text()


def test_a_blocked_guest_is_not_mailed_codes(live, seed, smtp):
    from idp.mfa import blocks

    _, response = invite(live, seed, send=False)
    guest = directory.find_user(seed.tenant, response.json()["invitedUser"]["id"])
    blocks.block(guest, "Reported", "admin@contoso.test")
    db.session.commit()
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])
    assert "blocked from multifactor authentication" in agent.text()
    form = next(f for f in forms(agent.page.text) if "/method/email_otp" in f["action"])
    agent.go(form["action"], "post", {**form["fields"], "action": "send"})
    assert agent.page.status_code == 403 and "blocked from multifactor authentication" in agent.text()
    time.sleep(0.5)
    assert smtp.to(GUEST) == []


def test_invitation_properties_are_validated_by_type_and_length(live, seed):
    for bad, fragment in (
        (({"a": 1}), "invitedUserDisplayName"),
        ("n" * 257, "invitedUserDisplayName"),
        (5, "invitedUserDisplayName"),
    ):
        _, response = invite(live, seed, send=False, invitedUserDisplayName=bad)
        assert response.status_code == 400 and fragment in response.json()["error"]["message"]
    long_address = "a" * 64 + "@" + "b" * 200 + ".example"
    _, response = invite(live, seed, address=long_address, send=False)
    assert response.status_code == 400 and "invitedUserEmailAddress" in response.json()["error"]["message"]
    assert directory.find_by_sign_in_name(seed.tenant, GUEST) is None
