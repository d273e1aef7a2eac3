"""The console's Users pages through a browser without JavaScript: validation that keeps the input and names the
field, post/redirect/get with a password shown once, the Graph API's role rules (controls hidden with the reason,
refused on the server), CSRF, and every change made through the directory service."""

import html
import re

from sqlalchemy import select

from idp import clock
from idp.audit.models import AuditLog
from idp.directory import service as directory
from idp.directory.models import Roles, User
from idp.extensions import db

from .support import PASSWORD, Agent, password_sign_in
from .test_console_pages import admin_agent

NEW = "/contoso.test/admin/users/new"


def _user(upn) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.upn == upn))


def shown_password(page: str) -> str:
    return html.unescape(re.search(r'id="new-password"[^>]*>([^<]+)<', page).group(1))


def _field_error(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]+)<', page)
    return found.group(1) if found else ""


def test_create_user_keeps_the_input_and_shows_each_error_beside_its_field(live, seed):
    agent = admin_agent(live, path=NEW)
    form = dict(displayName="Bob Builder", upnLocal="alice", domain="contoso.test")
    agent.submit("/users/new", **form)
    assert agent.page.status_code == 400
    assert "Another user already has this user principal name." in _field_error(agent.page.text, "f-upn")
    assert 'value="Bob Builder"' in agent.page.text and 'value="alice"' in agent.page.text  # what was typed stays
    agent.submit("/users/new", **{**form, "upnLocal": "bob", "domain": "fabrikam.example"})  # not a verified domain
    assert "verified domains" in _field_error(agent.page.text, "f-upn")
    agent.submit("/users/new", **{**form, "upnLocal": ".bob"})
    assert "no dot at the start" in _field_error(agent.page.text, "f-upn")
    agent.submit("/users/new", **{**form, "upnLocal": "bob", "password_choice": "manual", "password": "short"})
    assert "8 to 256 characters" in _field_error(agent.page.text, "f-password")
    assert 'value="short"' not in agent.page.text  # a refused password is never echoed
    agent.submit("/users/new", **{**form, "upnLocal": "bob", "displayName": "  ", "password_choice": "generate"})
    assert _field_error(agent.page.text, "f-displayName") == "Enter a name."
    assert _user("bob@contoso.test") is None  # nothing was created by any refused form


def test_create_user_shows_the_generated_password_once(live, seed):
    agent = admin_agent(live, path=NEW)
    agent.submit("/users/new", displayName="Bob Builder", upnLocal="Bob", domain="contoso.example", force_change="on")
    bob = _user("bob@contoso.example")
    assert bob is not None and bob.force_change_password and bob.account_enabled and bob.mail_nickname == "Bob"
    assert agent.page.url.endswith(f"/users/{bob.id}")  # post/redirect/get
    password = shown_password(agent.page.text)
    assert directory.passwords.verify_password(bob.password_hash, password)
    assert "User created." in agent.text()
    again = agent.go(agent.page.url)
    assert password not in again.text and 'id="new-password"' not in again.text  # shown once
    assert db.session.scalar(select(AuditLog).where(AuditLog.activity == "Add user", AuditLog.target_id == bob.id))


def test_typed_password_and_disabled_account(live, seed):
    agent = admin_agent(live, path=NEW)
    agent.submit(
        "/users/new",
        displayName="Carol",
        upnLocal="carol",
        domain="contoso.test",
        password_choice="manual",
        password="Typed-Passw0rd",
        force_change="",
        accountEnabled="",
    )
    carol = _user("carol@contoso.test")
    assert carol is not None and not carol.force_change_password and not carol.account_enabled
    assert 'id="new-password"' not in agent.page.text  # the admin typed it: nothing to show
    assert directory.passwords.verify_password(carol.password_hash, "Typed-Passw0rd")


def test_list_searches_by_prefix_and_pages(live, seed):
    for n in range(55):
        directory.create_user(seed.tenant, f"zed{n:02}@contoso.test", f"Zed {n:02}")
    directory.create_user(seed.tenant, "xavier@contoso.test", "Amazed Xavier")  # "zed" inside, not at the start
    db.session.commit()
    agent = admin_agent(live, path="/contoso.test/admin/users?q=ZED")
    assert "zed00@contoso.test" in agent.page.text and "zed49@contoso.test" in agent.page.text
    assert "zed50@contoso.test" not in agent.page.text and "xavier@" not in agent.page.text
    agent.go("/contoso.test/admin/users?q=ZED&page=2")
    assert "zed54@contoso.test" in agent.page.text and "zed00@contoso.test" not in agent.page.text
    agent.go("/contoso.test/admin/users?q=amazed")  # a display name's start
    assert "xavier@contoso.test" in agent.page.text and "zed00@" not in agent.page.text
    agent.go("/contoso.test/admin/users?q=%25")  # a wildcard is a character, not a pattern
    assert "No users match." in agent.text()


def test_profile_errors_keep_the_input(live, seed):
    agent = admin_agent(live, path=f"/contoso.test/admin/users/{seed.alice.id}")
    agent.submit("/profile", displayName="Alice Renamed", jobTitle="x" * 200, department="Sales")
    assert agent.page.status_code == 400
    assert "at most 128 characters" in _field_error(agent.page.text, "f-jobTitle")
    assert 'value="Alice Renamed"' in agent.page.text and 'value="Sales"' in agent.page.text
    assert _user("alice@contoso.test").display_name == "Alice Example"
    agent.submit("/profile", displayName="Alice Renamed", givenName="Alice", jobTitle="", department="Sales")
    alice = _user("alice@contoso.test")
    assert (alice.display_name, alice.given_name, alice.job_title, alice.department) == (
        "Alice Renamed",
        "Alice",
        None,
        "Sales",
    )
    assert "Profile saved." in agent.text()


def test_disable_ends_sessions_and_sign_in_is_refused(live, seed):
    alice = Agent(live.url)
    alice.go("/contoso.test/mysecurityinfo/")
    password_sign_in(alice, "alice@contoso.test")
    admin = admin_agent(live, path=f"/contoso.test/admin/users/{seed.alice.id}")
    assert "End session" in admin.text()  # Alice's session is listed
    admin.submit("/account", confirm="yes")
    assert "Sign-in blocked" in admin.text() and not _user("alice@contoso.test").account_enabled
    alice.go("/contoso.test/mysecurityinfo/")
    assert "Email or username" in alice.text()  # her session ended
    admin.submit("/account", enabled="yes")
    assert _user("alice@contoso.test").account_enabled


def test_sessions_unlock_and_groups(live, seed, app):
    group = directory.create_group(seed.tenant, "Sales")
    db.session.commit()
    app.config["IDP_SIGNIN_LOCKOUT_THRESHOLD"] = 2
    for _ in range(2):
        probe = Agent(live.url)
        probe.go("/contoso.test/login/")
        probe.submit("/login", username="alice@contoso.test")
        probe.submit("/login/method/password", password="wrong")
    admin = admin_agent(live, path=f"/contoso.test/admin/users/{seed.alice.id}")
    assert "Locked until" in admin.text()
    admin.submit("/unlock")
    assert "Not locked (0 of 2" in admin.text()
    admin.submit("/groups", group=group.id)
    assert directory.is_member(group, _user("alice@contoso.test")) and "Added to Sales." in admin.text()
    admin.submit(f"/groups/{group.id}/remove")
    assert not directory.is_member(group, _user("alice@contoso.test"))
    activities = set(db.session.scalars(select(AuditLog.activity)))
    assert {"Unlock user sign-in (smart lockout)", "Add member to group", "Remove member from group"} <= activities


def test_delete_needs_the_confirmation(live, seed):
    bob = directory.create_user(seed.tenant, "bob@contoso.test", "Bob", PASSWORD)
    db.session.commit()
    agent = admin_agent(live, path=f"/contoso.test/admin/users/{bob.id}")
    token = _csrf(agent)
    for path in ("delete", "account", "reset-password", "sessions/revoke"):  # without the question's second button
        response = agent.go(f"/contoso.test/admin/users/{bob.id}/{path}", "post", {"csrf_token": token})
        assert response.status_code == 400 and "Confirm the action first." in agent.text(), path
    bob_now = _user("bob@contoso.test")
    assert bob_now is not None and bob_now.account_enabled and not bob_now.force_change_password
    agent.go(f"/contoso.test/admin/users/{bob.id}")
    agent.submit("/delete", confirm="yes")
    assert _user("bob@contoso.test") is None and "bob@contoso.test was deleted." in agent.text()
    agent.go(f"/contoso.test/admin/users/{seed.admin.id}")
    assert 'id="refused-delete"' in agent.page.text and "delete your own account" in agent.text()
    assert "/delete" not in agent.page.text


def _signed_in_as(live, seed, upn, roles) -> Agent:
    directory.create_user(seed.tenant, upn, upn.split("@")[0], PASSWORD, roles)
    db.session.commit()
    return admin_agent(live, upn, path="/contoso.test/admin/users")


def _csrf(agent) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', agent.page.text).group(1)


def test_user_administrator_may_not_act_on_admins(live, seed):
    agent = _signed_in_as(live, seed, "ua@contoso.test", [Roles.USER_ADMIN])
    assert 'id="new-user"' in agent.page.text
    agent.go(f"/contoso.test/admin/users/{seed.admin.id}")
    assert "holds an administrator role" in agent.text() and "/reset-password" not in agent.page.text
    token = _csrf(agent)
    for path in ("reset-password", "account", "delete", "profile"):
        response = agent.go(
            f"/contoso.test/admin/users/{seed.admin.id}/{path}", "post", {"csrf_token": token, "confirm": "yes"}
        )
        assert response.status_code == 403, path
    admin = _user("admin@contoso.test")
    assert admin.account_enabled and directory.passwords.verify_password(admin.password_hash, PASSWORD)
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")  # a member: everything is offered
    assert "/reset-password" in agent.page.text and "/delete" in agent.page.text


def test_authentication_administrator_sees_why_and_is_refused(live, seed):
    agent = _signed_in_as(live, seed, "aa@contoso.test", [Roles.AUTH_ADMIN])
    assert 'id="new-user"' not in agent.page.text and "cannot create users" in agent.text()
    agent.go(NEW)
    assert "<fieldset disabled>" in agent.page.text
    response = agent.go(NEW, "post", {"csrf_token": _csrf(agent), "displayName": "X", "upnLocal": "x"})
    assert response.status_code == 403 and _user("x@contoso.test") is None
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    assert 'id="refused-change"' in agent.page.text and 'id="refused-groups"' in agent.page.text
    assert "Sign out everywhere" in agent.text()  # an Authentication Administrator may end a member's sessions
    agent.submit("/reset-password", confirm="yes")  # ... and reset a member's password (Graph's resetPassword rule)
    password = shown_password(agent.page.text)
    assert directory.passwords.verify_password(_user("alice@contoso.test").password_hash, password)
    agent.submit("/sessions/revoke", confirm="yes")
    assert "Every session of this user has ended." in agent.text()
    agent.go(f"/contoso.test/admin/users/{seed.admin.id}")
    assert 'id="refused-sessions"' in agent.page.text and "/reset-password" not in agent.page.text  # not an admin's
    assert 'id="refused-remembered"' in agent.page.text and "/revoke-mfa-sessions" not in agent.page.text
    response = agent.go(
        f"/contoso.test/admin/users/{seed.admin.id}/sessions/revoke", "post", {"csrf_token": _csrf(agent)}
    )
    assert response.status_code == 403


def test_every_change_needs_the_csrf_token(live, seed):
    agent = admin_agent(live, path=f"/contoso.test/admin/users/{seed.alice.id}")
    before = clock.now()
    for path in ("account", "delete", "reset-password", "profile", "sessions/revoke", "unlock"):
        response = agent.go(f"/contoso.test/admin/users/{seed.alice.id}/{path}", "post", {"confirm": "yes"})
        assert response.status_code == 400, path
    response = agent.go(NEW, "post", {"displayName": "Eve", "upnLocal": "eve", "domain": "contoso.test"})
    assert response.status_code == 400 and _user("eve@contoso.test") is None
    alice = _user("alice@contoso.test")
    assert alice.account_enabled and alice.display_name == "Alice Example"
    assert not alice.sessions_valid_from or alice.sessions_valid_from < before


def test_guest_invited_from_the_users_page_and_redemption_reset(live, seed):
    agent = admin_agent(live, path="/contoso.test/admin/users")
    agent.go(re.search(r'href="([^"]+)" id="invite-guest"', agent.page.text).group(1))
    agent.submit("/users/invite", address="gail@fabrikam.example", name="Gail", redirect="https://app.example/")
    guest = directory.find_by_sign_in_name(seed.tenant, "gail@fabrikam.example")
    guest.external_user_state, guest.redeemed_at = "Accepted", clock.now()
    db.session.commit()
    agent.go(f"/contoso.test/admin/users/{guest.id}")
    assert 'id="guest-state">Accepted' in agent.page.text and "/reset-password" not in agent.page.text
    agent.submit("/reset-redemption", confirm="yes", send="")
    db.session.expire_all()
    assert guest.external_user_state == "PendingAcceptance" and guest.redeemed_at is None
    assert "New redeem link: http" in agent.text()
    assert db.session.scalar(select(AuditLog).where(AuditLog.activity == "Reset guest redemption"))


def test_mfa_block_and_lockout_are_lifted_from_the_user_page(live, seed, app):
    from datetime import timedelta

    from idp.mfa import blocks
    from idp.mfa.state import ensure

    with app.test_request_context():
        blocks.block(seed.alice, "Reported fraud", "admin@contoso.test")
        state = ensure(seed.alice)
        state.denials, state.locked_until = 5, clock.now() + timedelta(minutes=30)
        db.session.commit()
    reader = _signed_in_as(live, seed, "aa@contoso.test", [Roles.AUTH_ADMIN])
    reader.go(f"/contoso.test/admin/users/{seed.alice.id}")
    assert "Blocked from MFA until" in reader.text() and "Locked after repeated MFA denials" in reader.text()
    assert (
        'id="mfa-unblock"' not in reader.page.text
        and "Authentication Policy Administrator may do this" in reader.text()
    )
    refused = reader.go(f"/contoso.test/admin/users/{seed.alice.id}/mfa-unlock", "post", {"csrf_token": _csrf(reader)})
    assert refused.status_code == 403
    agent = admin_agent(live, path=f"/contoso.test/admin/users/{seed.alice.id}")
    agent.submit("/unblock", reason="")
    assert (
        "Enter a reason for unblocking this user." in agent.text() and "Blocked from MFA until" in agent.text()
    )  # back on the user page
    agent.submit("/unblock", reason="Confirmed with the user")
    assert "Not blocked from MFA." in agent.text() and agent.page.url.endswith(f"/users/{seed.alice.id}#lockout")
    agent.submit("/mfa-unlock")
    db.session.expire_all()
    assert ensure(seed.alice).denials == 0 and ensure(seed.alice).locked_until is None
    assert "Locked after repeated MFA denials" not in agent.text()
    activities = set(db.session.scalars(select(AuditLog.activity)))
    assert {"Unblock user from MFA", "Unlock user from MFA lockout"} <= activities
