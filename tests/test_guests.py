"""B2B guests: invitations, tenant context, email one-time passcodes over a real SMTP server, home accounts."""
from datetime import timedelta

import requests

from idp import clock
from idp.directory import service as directory
from idp.extensions import db
from idp.policy import service as policy

from .smtp import free_port, point_mail_at, wait_for
from .support import PASSWORD, REDIRECT, Agent, GraphClient, admin_tool, delegated_token, password_sign_in
from .test_oidc_flow import Rp

GUEST = "gina@partner.example"
LANDING = "https://apps.contoso.example/welcome"


def invite(live, seed, address=GUEST, send=True, **extra):
    graph = GraphClient(live.url, delegated_token(live.url, "contoso.test", admin_tool(seed.tenant), "admin@contoso.test"))
    response = graph("POST", "/invitations", {"invitedUserEmailAddress": address, "inviteRedirectUrl": LANDING,
                                              "sendInvitationMessage": send, "invitedUserDisplayName": "Gina", **extra})
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
    refreshed = requests.post(rp.meta["token_endpoint"], data={"grant_type": "refresh_token",
                                                              "refresh_token": token["refresh_token"]},
                              auth=(seed.client_id, seed.client_secret))
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
    # an app's authorize URL under /common: members fine, guests refused with the explanation
    rp = Rp(live, seed)
    url = rp.authorize_url().replace("/contoso.test/", "/common/").replace(f"/{seed.tenant.id}/", "/common/")
    guest = Agent(live.url)
    guest.go(url)
    guest.submit("/login", username=GUEST)
    assert guest.page.status_code == 400 and "link that contains the organization" in guest.text()
    member = Agent(live.url)
    member.go(url)
    password_sign_in(member, "alice@contoso.test")
    code = member.redirect_params()["code"]
    token = requests.post(f"{live.url}/common/oauth2/v2.0/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": rp.verifier},
        auth=(seed.client_id, seed.client_secret))
    assert token.status_code == 200 and rp.id_claims(token.json())["tid"] == seed.tenant.id


def test_setting_values_and_redemption_reset(live, seed, smtp):
    graph, response = invite(live, seed, send=False)
    link, guest_id = response.json()["inviteRedeemUrl"], response.json()["invitedUser"]["id"]
    set_email_otp(seed.tenant.id, "enabled")
    redeem_with_code(open_invitation(live, link), smtp)
    set_email_otp(seed.tenant.id, "disabled")
    agent = Agent(live.url)
    agent.go("/contoso.test/login/")
    agent.submit("/login", username=GUEST)
    agent.submit("/login/method/email_otp", action="send")
    assert agent.page.status_code == 400 and "turned off sign-in with one-time passcodes" in agent.text()
    set_email_otp(seed.tenant.id, "default")  # default means enabled
    agent.submit("/login/method/email_otp", action="send")
    assert agent.page.status_code == 200 and "We sent a code" in agent.text()
    reset = graph("POST", "/invitations", {"invitedUserEmailAddress": GUEST, "inviteRedirectUrl": LANDING,
                                           "resetRedemption": True, "invitedUser": {"id": guest_id}})
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
