"""Findings of the red-team pass over the newest surfaces (home realm discovery, the console's directory pages,
branding, the Graph directory operations, mail languages), each kept as a regression test."""

import requests

from idp.directory import service as directory
from idp.directory.models import Roles, User
from idp.extensions import db
from idp.oidc.clients import create_client

from .support import DIRECTORY_SCOPES, PASSWORD, REDIRECT, Agent, GraphClient, delegated_sign_in, password_sign_in


def _fabrikam_admin():
    fabrikam = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    admin = directory.create_user(fabrikam, "boss@fabrikam.test", "Boss", PASSWORD, [Roles.GLOBAL_ADMIN])
    victim = directory.create_user(fabrikam, "fran@fabrikam.test", "Fran", PASSWORD)
    db.session.commit()
    return fabrikam, admin, victim


def _authorize(base, tenant_ref, client, scope):
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    oauth = OAuth2Session(client[0], client[1], scope=scope, redirect_uri=REDIRECT)
    verifier = generate_token(64)
    url, _ = oauth.create_authorization_url(
        f"{base}/{tenant_ref}/oauth2/v2.0/authorize",
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    return oauth, url, verifier


def test_another_tenants_multi_tenant_app_gets_no_admin_permissions_nobody_in_the_users_tenant_granted(live, seed):
    """Contoso registers a multi-tenant app and grants it (in Contoso) User.ReadWrite.All and friends. A Global
    Administrator of Fabrikam who signs in to it handed it a Graph token for Fabrikam's directory with those
    permissions (it renamed a Fabrikam user): Fabrikam never consented. Entra answers AADSTS65001; only what a
    user may consent to for themselves (sign-in and User.Read) reaches another tenant, refresh included."""
    fabrikam, _admin, victim = _fabrikam_admin()
    tool, secret = create_client(seed.tenant, "Harvester", [REDIRECT], scopes=DIRECTORY_SCOPES)
    tool.sign_in_audience = "AzureADMultipleOrgs"
    db.session.commit()
    for scope in ("openid https://graph.microsoft.com/.default", "openid User.ReadWrite.All"):
        _oauth, url, _verifier = _authorize(live.url, fabrikam.id, (tool.id, secret), scope)
        agent = Agent(live.url)
        agent.go(url)
        params = password_sign_in(agent, "boss@fabrikam.test").redirect_params()
        assert "code" not in params and params["error"] == "consent_required", params
        assert "AADSTS65001" in params["error_description"] and "User.ReadWrite.All" in params["error_description"]

    # what the user may grant: a sign-in with User.Read, whose refresh token cannot be widened afterwards
    oauth, url, verifier = _authorize(live.url, fabrikam.id, (tool.id, secret), "openid offline_access User.Read")
    agent = Agent(live.url)
    agent.go(url)
    code = password_sign_in(agent, "boss@fabrikam.test").redirect_params()["code"]
    token = oauth.fetch_token(f"{live.url}/{fabrikam.id}/oauth2/v2.0/token", code=code, code_verifier=verifier)
    assert GraphClient(live.url, token["access_token"])("GET", "/me").json()["id"] == _admin.id
    widened = requests.post(
        f"{live.url}/{fabrikam.id}/oauth2/v2.0/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "scope": "User.ReadWrite.All"},
        auth=(tool.id, secret),
    )
    assert widened.status_code == 400 and "access_token" not in widened.json(), widened.text
    assert 65001 in widened.json()["error_codes"]
    assert db.session.get(User, victim.id).display_name == "Fran"

    # the app's own tenant's users keep what their tenant granted
    own = delegated_sign_in(live.url, "contoso.test", (tool.id, secret), seed.alice.upn)[0]
    assert "User.ReadWrite.All" in own["scope"].split()


def test_a_guests_home_account_is_never_a_user_of_another_tenant_whose_mail_an_admin_set(live, seed):
    """`mail` is a property any User Administrator sets (Graph PATCH /users). A guest's home account was any
    member of any tenant whose UPN *or mail* was the guest's address, the first found: an administrator of
    an unrelated tenant set a member's mail to a guest's address and signed in as that guest elsewhere (the
    nOAuth pattern). The home account is the user of the tenant that owns the address's domain, only."""
    fabrikam, _admin, fran = _fabrikam_admin()
    evil = directory.create_tenant("Evil", ["evil.test"])
    mallory = directory.create_user(evil, "mallory@evil.test", "Mallory", PASSWORD)
    db.session.commit()
    for address in ("someone@mail.example", "fran@fabrikam.test"):
        directory.update_user(mallory, {"mail": address})  # what Evil's User Administrator may do via Graph
        db.session.commit()
        upn = f"{address.replace('@', '_')}#EXT#@contoso.test"
        guest = directory.create_user(seed.tenant, upn, address, None, guest="external", mail=address)
        db.session.commit()
        home = directory.home_account(guest)
        expected = fran if address == "fran@fabrikam.test" else None
        assert (home and home.id) == (expected and expected.id), (address, home and home.upn)


def test_directory_names_and_addresses_are_one_line_each(live, seed):
    """The UPN and mailNickname checks were `re.match` with `$`, which accepts a trailing newline: Graph created
    'bob\\n@contoso.test' (a name that looks like bob's in every list). `mail` took anything, so a User
    Administrator could give a guest the address 'a@b.example\\nBcc: x' (the code mail then failed with a 500);
    an invitation's address passed with a trailing newline too."""
    directory.create_user(seed.tenant, "ua@contoso.test", "UA", PASSWORD, [Roles.USER_ADMIN])
    client, secret = create_client(
        seed.tenant, "Directory tool", [REDIRECT], scopes=[*DIRECTORY_SCOPES, "User.Invite.All"]
    )
    guest = directory.create_user(
        seed.tenant, "g_mail.example#EXT#@contoso.test", "G", None, guest="external", mail="g@mail.example"
    )
    db.session.commit()
    graph = GraphClient(
        live.url,
        delegated_sign_in(live.url, "contoso.test", (client.id, secret), "admin@contoso.test")[0]["access_token"],
    )
    body = {"accountEnabled": True, "displayName": "Bob", "passwordProfile": {"password": "Fixture-Passw0rd!"}}
    for upn, nickname in (("bob\n@contoso.test", "bob"), ("bob2@contoso.test", "bob\n")):
        made = graph("POST", "/users", {**body, "userPrincipalName": upn, "mailNickname": nickname})
        assert made.status_code == 400, (upn, nickname, made.text)
    for mail in ("g@mail.example\nBcc: x@evil.example", "not an address", "g@mail.example\r\nBcc: x"):
        changed = graph("PATCH", f"/users/{guest.id}", {"mail": mail})
        assert changed.status_code == 400, (mail, changed.text)
        assert changed.json()["error"]["code"]
    for name in ("Bob\u0000", "Bob\nAdmin"):
        assert graph("PATCH", f"/users/{guest.id}", {"displayName": name}).status_code == 400, name
    invited = graph(
        "POST",
        "/invitations",
        {"invitedUserEmailAddress": "new@mail.example\n", "inviteRedirectUrl": "https://a.example/"},
    )
    assert invited.status_code == 400, invited.text
    assert db.session.get(User, guest.id).mail == "g@mail.example"


def test_redirect_uris_are_never_script_urls_or_multi_line(live, seed):
    """The mobile-and-desktop platform took any `scheme:/...`: `javascript://%0aalert(1)` was registered (the
    form_post page would post the code to it; only the CSP stood in the way), and URIs with a line break or a
    space were stored. Entra refuses both."""
    client, secret = create_client(seed.tenant, "Directory tool", [REDIRECT], scopes=DIRECTORY_SCOPES)
    db.session.commit()
    graph = GraphClient(
        live.url,
        delegated_sign_in(live.url, "contoso.test", (client.id, secret), "admin@contoso.test")[0]["access_token"],
    )
    app = graph("POST", "/applications", {"displayName": "Native"}).json()
    for platform, uri in (
        ("publicClient", "javascript://%0aalert(document.domain)"),
        ("publicClient", "JavaScript://x/%0aalert(1)"),
        ("publicClient", "data:/text/html,hi"),
        ("web", "https://app.example/cb\n"),
        ("web", "https://app.example/c b"),
    ):
        changed = graph("PATCH", f"/applications/{app['id']}", {platform: {"redirectUris": [uri]}})
        assert changed.status_code == 400, (uri, changed.text)
    kept = graph("PATCH", f"/applications/{app['id']}", {"publicClient": {"redirectUris": ["myapp://auth"]}})
    assert kept.status_code == 204, kept.text


def _role_graph(live, seed, upn, role):
    from .support import GRAPH_SCOPES

    directory.create_user(seed.tenant, upn, upn.split("@")[0], PASSWORD, [role])
    client, secret = create_client(
        seed.tenant, "MFA tool", [REDIRECT], scopes=sorted({*GRAPH_SCOPES, *DIRECTORY_SCOPES})
    )
    db.session.commit()
    return GraphClient(
        live.url, delegated_sign_in(live.url, "contoso.test", (client.id, secret), upn)[0]["access_token"]
    )


def test_mfa_actions_on_an_administrator_take_a_privileged_role_in_graph_as_in_the_console(live, seed):
    """Issue 14's L-8 was closed in the console only: Graph's revokeMfaSessions let an Authentication
    Administrator (or Authentication Policy Administrator) revoke a Global Administrator's remembered MFA, and
    an Authentication Policy Administrator could block a Global Administrator from MFA for 90 days (a lockout of
    the tenant's owner), in Graph and in the console alike."""
    from .support import Agent, password_sign_in

    admin = seed.admin if hasattr(seed, "admin") else directory.find_user(seed.tenant, "admin@contoso.test")
    auth_admin = _role_graph(live, seed, "authadmin@contoso.test", Roles.AUTH_ADMIN)
    assert auth_admin("POST", f"/users/{admin.id}/revokeMfaSessions").status_code == 403
    assert auth_admin("POST", f"/users/{seed.alice.id}/revokeMfaSessions").status_code == 204
    policy_admin = _role_graph(live, seed, "policyadmin@contoso.test", Roles.AUTH_POLICY_ADMIN)
    assert policy_admin("POST", f"/users/{admin.id}/revokeMfaSessions").status_code == 403
    blocked = policy_admin(
        "POST", "/policies/mfaSettings/blockedUsers", {"userPrincipalName": admin.upn, "reason": "bye"}
    )
    assert blocked.status_code == 403, blocked.text
    assert blocked.json()["error"]["code"] == "Authorization_RequestDenied"
    member = policy_admin(
        "POST", "/policies/mfaSettings/blockedUsers", {"userPrincipalName": seed.alice.upn, "reason": "stolen"}
    )
    assert member.status_code == 201, member.text

    agent = Agent(live.url)
    agent.go("/contoso.test/admin/mfa/block")
    password_sign_in(agent, "policyadmin@contoso.test")
    agent.go("/contoso.test/admin/mfa/block")
    agent.submit("/admin/mfa/block", upn=admin.upn, reason="bye")
    from idp.mfa.blocks import active_block

    db.session.expire_all()
    assert active_block(directory.find_user(seed.tenant, admin.upn)) is None


def test_tenant_pages_are_not_served_under_common_for_a_client_id(live, seed):
    """/common/admin/?client_id=<an app of Contoso> was Contoso's console, /common/login/... its sign-in steps
    and /common/branding/... its branding: any tenant's pages, chosen by whoever names one of its apps, under
    the address people read as "no particular organization". Only the protocol endpoints live there."""
    for path in (
        "/common/admin/",
        "/organizations/mysecurityinfo/",
        "/common/login/method/password",
        "/common/branding/style.css",
        "/common/report",
        "/organizations/devicelogin",
    ):
        response = requests.get(live.url + path, params={"client_id": seed.client_id}, allow_redirects=False)
        assert response.status_code == 400, (path, response.status_code)
    keys = requests.get(f"{live.url}/common/discovery/v2.0/keys", params={"client_id": seed.client_id})
    assert keys.status_code == 200
    authorize = requests.get(
        f"{live.url}/common/oauth2/v2.0/authorize",
        params={"client_id": seed.client_id, "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid"},
        allow_redirects=False,
    )
    assert authorize.status_code in (302, 303), authorize.text[:200]


def test_login_hints_are_one_bounded_line(live, seed):
    """login_hint was the one authorization parameter taken unchecked: /common carried a 3,000-character or
    NUL-bearing hint into the session cookie, the transaction and the home tenant's redirect."""
    params = {"client_id": seed.client_id, "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid"}
    for tenant in ("common", "contoso.test"):
        for hint in ("x" * 3000 + "@contoso.test", "\x00@contoso.test", "alice@contoso.test\r\nX: y"):
            response = requests.get(
                f"{live.url}/{tenant}/oauth2/v2.0/authorize",
                params={**params, "login_hint": hint},
                allow_redirects=False,
            )
            assert response.status_code == 400 and "AADSTS9002313" in response.text, (tenant, hint[:20])
        fine = requests.get(
            f"{live.url}/{tenant}/oauth2/v2.0/authorize",
            params={**params, "login_hint": "élise@contoso.test"},
            allow_redirects=False,
        )
        assert fine.status_code in (302, 303), fine.text[:200]


def test_a_request_planted_at_common_does_not_take_over_a_later_plain_sign_in(live, seed):
    """Opening any /common authorize URL (a link, an image tag's top-level redirect) left the request waiting in
    the browser's session: the next plain visit of /common/login/ (the user signing in to something else) sent
    the user, signed in, to the planted app with a code. The page's ticket now names the request it continues,
    and the page says which app that is."""
    import re

    from .support import forms

    fabrikam, _admin, _fran = _fabrikam_admin()
    tool, _secret = create_client(seed.tenant, "Attacker's app", [REDIRECT])
    tool.sign_in_audience = "AzureADMultipleOrgs"
    db.session.commit()
    _oauth, url, _verifier = _authorize(live.url, "common", (tool.id, "x"), "openid")
    agent = Agent(live.url)
    agent.go(url)  # planted: the victim's browser opened the link and went elsewhere
    agent.go("/common/login/")  # later: the user's own, plain sign-in
    assert "Attacker" not in agent.page.text
    password_sign_in(agent, "fran@fabrikam.test")
    assert not agent.location.startswith(REDIRECT) and "code" not in agent.redirect_params(), agent.location

    agent = Agent(live.url)
    agent.go(url)  # the request's own page continues it, and says where to
    assert "to continue to Attacker's app" in agent.text()
    form = next(f for f in forms(agent.page.text) if "/common/login/" in f["action"])
    assert re.fullmatch(r"[\w-]{8,}", form["fields"]["request"])
    password_sign_in(agent, "fran@fabrikam.test")
    assert agent.location.startswith(REDIRECT) and agent.redirect_params()["code"]


def test_a_header_breaking_recipient_is_a_mail_error_not_a_500(app, smtp):
    """Flask-Mail refuses a recipient with a line break by raising BadHeaderError, which the mailer let through
    (every caller handles MailError: "try again", nothing half-written). Stored addresses are checked now, and
    the mailer refuses such a message itself, SMTP or outbox alike."""
    import pytest

    from idp import mailer

    for recipient, subject in (("a@b.example\nBcc: x@evil.example", "Code"), ("a@b.example", "Code\r\nBcc: x")):
        with pytest.raises(mailer.MailError):
            mailer.send(recipient, subject, "body")
    assert smtp.messages == []
    mailer.send("a@b.example", "Code", "body")
    assert len(smtp.messages) == 1


def test_an_authorization_response_carries_iss_once(live, seed):
    """Every create_app() registered a new RFC 9207 extension on the module's one Authlib server, so a process
    that made two apps (every test run; any embedding) sent `iss` twice: RFC 6749 forbids a repeated response
    parameter and strict clients (oauth4webapi) refuse the response."""
    from urllib.parse import parse_qs, urlsplit

    # this test's app is at least the second of the process (conftest builds a template app first)
    _oauth, url, _verifier = _authorize(live.url, "contoso.test", (seed.client_id, seed.client_secret), "openid")
    agent = Agent(live.url)
    agent.go(url)
    password_sign_in(agent, seed.alice.upn)
    issuers = parse_qs(urlsplit(agent.location).query)["iss"]
    assert issuers == [f"{live.url}/{seed.tenant.id}/v2.0"], issuers
