"""Console pages for named locations, authentication strengths and app registrations: the Graph services'
validation shown next to the field with the input kept, post/redirect/get, confirmations, role refusals, CSRF."""

from sqlalchemy import select

from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.mfa.models import NamedLocation

from .support import PASSWORD
from .test_console_pages import admin_agent

LOCATIONS = "/contoso.test/admin/locations"


def reader_agent(live, seed, role=Roles.GLOBAL_READER, upn="reader@contoso.test"):
    directory.create_user(seed.tenant, upn, "Reader", PASSWORD, [role])
    db.session.commit()
    return admin_agent(live, upn)


def _locations(tenant_id):
    db.session.expire_all()
    return db.session.scalars(select(NamedLocation).where(NamedLocation.tenant_id == tenant_id)).all()


def test_named_location_create_refused_input_kept_then_edit_and_delete(live, seed):
    agent = admin_agent(live, path=LOCATIONS)
    assert "There are no named locations yet." in agent.text()
    agent.go(LOCATIONS + "/new")
    refused = agent.submit("/locations/new", displayName="Branch", ipRanges="81.2.69.0/24\n10.0.0.0/8")
    assert refused.status_code == 400 and not _locations(seed.tenant.id)
    assert 'id="f-ipRanges-error"' in refused.text and "private" in refused.text
    assert "81.2.69.0/24\n10.0.0.0/8</textarea>" in refused.text and 'value="Branch"' in refused.text
    empty = agent.submit("/locations/new", displayName="", ipRanges="81.2.69.0/24")
    assert empty.status_code == 400 and 'id="f-displayName-error"' in empty.text
    agent.submit("/locations/new", displayName="Branch", ipRanges="81.2.69.0/24\n2a01:111:f400::/48", isTrusted="on")
    assert agent.page.status_code == 200 and agent.page.url.endswith(LOCATIONS)  # redirected after the POST
    assert "Named location Branch created." in agent.text()
    (made,) = _locations(seed.tenant.id)
    assert made.ip_ranges == ["81.2.69.0/24", "2a01:111:f400::/48"] and made.is_trusted
    agent.go(f"{LOCATIONS}/{made.id}")
    form = {"displayName": "Branch office", "ipRanges": "81.2.69.0/24"}  # the switch left off: not trusted
    agent.submit(f"/locations/{made.id}", **{k: v for k, v in form.items()}, isTrusted="")
    assert "Saved." in agent.text() and agent.page.url.endswith(made.id)
    (changed,) = _locations(seed.tenant.id)
    assert changed.display_name == "Branch office" and not changed.is_trusted and changed.ip_ranges == ["81.2.69.0/24"]
    unconfirmed = agent.http.post(
        f"{live.url}{LOCATIONS}/{made.id}/delete", data={"csrf_token": _csrf(agent)}, allow_redirects=False
    )
    assert unconfirmed.status_code == 400 and _locations(seed.tenant.id)
    agent.go(f"{LOCATIONS}/{made.id}")
    assert 'id="delete-location"' in agent.page.text
    agent.submit("/delete", confirm="yes")
    assert "Named location Branch office deleted." in agent.text() and not _locations(seed.tenant.id)


def _csrf(agent) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', agent.page.text).group(1)


def test_named_locations_read_only_for_a_global_reader_and_csrf_required(live, seed):
    agent = admin_agent(live, path=LOCATIONS + "/new")
    no_token = agent.http.post(
        f"{live.url}{LOCATIONS}/new", data={"displayName": "X", "ipRanges": "81.2.69.0/24"}, allow_redirects=False
    )
    assert no_token.status_code == 400 and not _locations(seed.tenant.id)
    agent.submit("/locations/new", displayName="HQ", ipRanges="81.2.69.0/24")
    (made,) = _locations(seed.tenant.id)
    reader = reader_agent(live, seed)
    reader.go(LOCATIONS)
    assert 'id="read-only"' in reader.page.text and 'id="new-location"' not in reader.page.text
    reader.go(f"{LOCATIONS}/{made.id}")
    assert "<fieldset disabled>" in reader.page.text and 'id="delete-location"' not in reader.page.text
    token = _csrf(reader)
    for path in (f"{LOCATIONS}/new", f"{LOCATIONS}/{made.id}", f"{LOCATIONS}/{made.id}/delete"):
        refused = reader.http.post(
            f"{live.url}{path}",
            data={"csrf_token": token, "displayName": "Mine", "ipRanges": "81.2.70.0/24", "confirm": "yes"},
            allow_redirects=False,
        )
        assert refused.status_code == 403, path
    (kept,) = _locations(seed.tenant.id)
    assert kept.display_name == "HQ"


# --- authentication strengths ------------------------------------------------------------------------------

STRENGTHS = "/contoso.test/admin/authentication-strengths"
YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"


def _custom_strengths(tenant_id):
    from idp.policy.strengths import AuthenticationStrength

    db.session.expire_all()
    return db.session.scalars(select(AuthenticationStrength).where(AuthenticationStrength.tenant_id == tenant_id)).all()


def _post(agent, live, path, pairs):
    """Post a form whose fields repeat (checkboxes), with the page's CSRF token."""
    response = agent.http.post(f"{live.url}{path}", data=[("csrf_token", _csrf(agent)), *pairs], allow_redirects=False)
    return response


def test_custom_strength_with_a_passkey_limit_refusals_keep_input_then_edit_and_delete(live, seed):
    from idp.policy import strengths

    agent = admin_agent(live, path=STRENGTHS)
    assert "Phishing-resistant MFA" in agent.text() and "Built-in" in agent.text()
    agent.go(f"{STRENGTHS}/{strengths.PHISHING_RESISTANT}")
    assert (
        'id="built-in"' in agent.page.text
        and '<form method="post" action="/contoso.test/admin/auth' not in agent.page.text
    )
    assert "Passkey (FIDO2)" in agent.text() and "Windows Hello for Business" in agent.text()
    refused = _post(
        agent, live, STRENGTHS + "/" + strengths.PHISHING_RESISTANT, [("displayName", "x"), ("combination", "fido2")]
    )
    assert refused.status_code == 400 and "Built-in authentication strengths cannot be changed." in refused.text
    agent.go(STRENGTHS + "/new")
    none_chosen = _post(agent, live, STRENGTHS + "/new", [("displayName", "Keys only")])
    assert none_chosen.status_code == 400 and 'id="f-allowedCombinations-error"' in none_chosen.text
    bad_aaguid = _post(
        agent,
        live,
        STRENGTHS + "/new",
        [
            ("displayName", "Keys only"),
            ("combination", "fido2"),
            ("combination", "password,hardwareOath"),
            ("allowedAAGUIDs", "not-a-guid"),
        ],
    )
    assert bad_aaguid.status_code == 400 and 'id="f-allowedAAGUIDs-error"' in bad_aaguid.text
    assert 'value="Keys only"' in bad_aaguid.text and "not-a-guid</textarea>" in bad_aaguid.text
    assert 'value="password,hardwareOath" checked' in bad_aaguid.text and not _custom_strengths(seed.tenant.id)
    duplicate = _post(agent, live, STRENGTHS + "/new", [("displayName", "Passwordless MFA"), ("combination", "fido2")])
    assert (
        duplicate.status_code == 400
        and 'id="f-displayName-error"' in duplicate.text
        and "already named Passwordless MFA" in duplicate.text
    )
    made = _post(
        agent,
        live,
        STRENGTHS + "/new",
        [("displayName", "Keys only"), ("combination", "fido2"), ("allowedAAGUIDs", YUBIKEY.upper())],
    )
    assert made.status_code == 303
    (row,) = _custom_strengths(seed.tenant.id)
    assert row.allowed_combinations == ["fido2"] and row.combination_configurations[0]["allowedAAGUIDs"] == [YUBIKEY]
    found = strengths.find(seed.tenant.id, row.id)
    assert found.meets(["fido2"], YUBIKEY) and not found.meets(["fido2"], "00000000-0000-0000-0000-000000000001")
    agent.go(made.headers["Location"])
    assert "Authentication strength Keys only created." in agent.text() and f"{YUBIKEY}</textarea>" in agent.page.text
    changed = _post(
        agent,
        live,
        f"{STRENGTHS}/{row.id}",
        [
            ("displayName", "Keys or TAP"),
            ("combination", "fido2"),
            ("combination", "temporaryAccessPassOneTime"),
            ("allowedAAGUIDs", ""),
        ],
    )
    assert changed.status_code == 303
    (row,) = _custom_strengths(seed.tenant.id)
    assert row.display_name == "Keys or TAP" and row.combination_configurations == []
    assert row.allowed_combinations == ["fido2", "temporaryAccessPassOneTime"]
    agent.go(f"{STRENGTHS}/{row.id}")
    assert 'id="delete-strength"' in agent.page.text
    agent.submit("/delete", confirm="yes")
    assert "Authentication strength Keys or TAP deleted." in agent.text() and not _custom_strengths(seed.tenant.id)


def test_strengths_are_read_only_for_a_global_reader(live, seed):
    agent = admin_agent(live, path=STRENGTHS + "/new")
    assert (
        _post(agent, live, STRENGTHS + "/new", [("displayName", "Mine"), ("combination", "fido2")]).status_code == 303
    )
    (row,) = _custom_strengths(seed.tenant.id)
    no_token = agent.http.post(f"{live.url}{STRENGTHS}/{row.id}/delete", data={"confirm": "yes"}, allow_redirects=False)
    assert no_token.status_code == 400 and _custom_strengths(seed.tenant.id)
    reader = reader_agent(live, seed)
    reader.go(STRENGTHS)
    assert 'id="read-only"' in reader.page.text and 'id="new-strength"' not in reader.page.text
    reader.go(f"{STRENGTHS}/{row.id}")
    assert 'id="read-only"' in reader.page.text and 'id="delete-strength"' not in reader.page.text
    for path in (f"{STRENGTHS}/new", f"{STRENGTHS}/{row.id}", f"{STRENGTHS}/{row.id}/delete"):
        refused = _post(reader, live, path, [("displayName", "Taken"), ("combination", "sms"), ("confirm", "yes")])
        assert refused.status_code == 403, path
    (kept,) = _custom_strengths(seed.tenant.id)
    assert kept.display_name == "Mine" and kept.allowed_combinations == ["fido2"]


# --- app registrations -----------------------------------------------------------------------------------

APPS = "/contoso.test/admin/apps"


def _client_named(tenant_id, name):
    from idp.oidc.models import Client

    db.session.expire_all()
    return db.session.scalar(select(Client).where(Client.tenant_id == tenant_id, Client.name == name))


def _token(live, client_id, secret):
    import requests

    return requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        auth=(client_id, secret),
    )


def test_register_an_app_add_a_secret_shown_once_that_signs_in_then_remove_it_and_delete(live, seed):
    import re

    agent = admin_agent(live, path=APPS)
    assert "Web app" in agent.text()  # the seeded registrations are listed
    agent.go(APPS + "/new")
    refused = agent.submit(
        "/apps/new",
        displayName="Orders",
        signInAudience="AzureADMyOrg",
        web="https://orders.example/cb\nhttp://evil.example/cb",
        spa="https://spa.example/",
    )
    assert refused.status_code == 400 and 'id="f-web-error"' in refused.text and "evil.example" in refused.text
    assert (
        "https://orders.example/cb\nhttp://evil.example/cb</textarea>" in refused.text
        and 'value="Orders"' in refused.text
    )
    assert _client_named(seed.tenant.id, "Orders") is None
    no_name = agent.submit(
        "/apps/new", displayName="  ", signInAudience="AzureADMyOrg", web="https://orders.example/cb"
    )
    assert no_name.status_code == 400 and 'id="f-displayName-error"' in no_name.text
    agent.submit("/apps/new", displayName="Orders", signInAudience="AzureADMyOrg", web="https://orders.example/cb")
    client = _client_named(seed.tenant.id, "Orders")
    assert client.redirect_uris == ["https://orders.example/cb"] and agent.page.url.endswith(
        f"/apps/{client.object_id}"
    )
    assert "Application Orders registered." in agent.text() and client.id in agent.text()
    agent.submit("/secrets", secretName="ci", secretDays="90")
    secret = re.search(r'id="secret-value" translate="no">([^<]+)<', agent.page.text).group(1)
    assert "It will not be shown again." in agent.text()
    agent.go(agent.page.url)  # a reload shows it no more
    assert (
        secret not in agent.page.text
        and 'id="secret-value"' not in agent.page.text
        and secret[:3] + "…" in agent.text()
    )
    token = _token(live, client.id, secret)
    assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
    changed = agent.submit(
        f"/apps/{client.object_id}",
        displayName="Orders",
        signInAudience="AzureADMultipleOrgs",
        spa="https://spa.example/",
    )
    assert "Saved." in agent.text(), changed.text[:500]
    client = _client_named(seed.tenant.id, "Orders")
    assert client.sign_in_audience == "AzureADMultipleOrgs" and client.spa_redirect_uris == ["https://spa.example/"]
    key_id = client.password_credentials[0]["keyId"]
    unconfirmed = agent.http.post(
        f"{live.url}{APPS}/{client.object_id}/secrets/{key_id}/delete",
        data={"csrf_token": _csrf(agent)},
        allow_redirects=False,
    )
    assert unconfirmed.status_code == 400 and _token(live, client.id, secret).status_code == 200
    agent.submit(f"/secrets/{key_id}/delete", confirm="yes")
    assert "Client secret removed." in agent.text() and _token(live, client.id, secret).status_code == 401
    agent.submit(f"/apps/{client.object_id}/delete", confirm="yes")
    assert "Application Orders deleted." in agent.text() and _client_named(seed.tenant.id, "Orders") is None


def test_app_registrations_follow_the_application_roles_and_need_csrf(live, seed):
    agent = admin_agent(live, path=APPS + "/new")
    no_token = agent.http.post(f"{live.url}{APPS}/new", data={"displayName": "Sneaky"}, allow_redirects=False)
    assert no_token.status_code == 400 and _client_named(seed.tenant.id, "Sneaky") is None
    agent.submit("/apps/new", displayName="Kept", signInAudience="AzureADMyOrg", web="https://kept.example/cb")
    client = _client_named(seed.tenant.id, "Kept")
    policy_admin = reader_agent(live, seed, Roles.AUTH_POLICY_ADMIN, "policy@contoso.test")
    policy_admin.go(APPS)
    assert 'id="read-only"' in policy_admin.page.text and 'id="new-app"' not in policy_admin.page.text
    policy_admin.go(f"{APPS}/{client.object_id}")
    assert "<fieldset disabled>" in policy_admin.page.text and 'id="delete-app"' not in policy_admin.page.text
    assert 'id="add-secret"' not in policy_admin.page.text
    token = _csrf(policy_admin)
    for path in (
        f"{APPS}/new",
        f"{APPS}/{client.object_id}",
        f"{APPS}/{client.object_id}/secrets",
        f"{APPS}/{client.object_id}/delete",
    ):
        refused = policy_admin.http.post(
            f"{live.url}{path}",
            data={"csrf_token": token, "displayName": "Taken", "secretDays": "90", "confirm": "yes"},
            allow_redirects=False,
        )
        assert refused.status_code == 403, path
    kept = _client_named(seed.tenant.id, "Kept")
    assert kept is not None and not kept.password_credentials
    app_admin = reader_agent(live, seed, Roles.APP_ADMIN, "apps@contoso.test")
    app_admin.go(f"{APPS}/{client.object_id}")
    app_admin.submit("/secrets", secretName="", secretDays="180")
    assert (
        'id="secret-value"' in app_admin.page.text
        and len(_client_named(seed.tenant.id, "Kept").password_credentials) == 1
    )


def test_refusals_read_in_japanese_only(live, seed):
    """Which range and why, in Japanese: the service's English detail is no longer shown beside it."""
    agent = admin_agent(live, lang="ja", path=LOCATIONS + "/new")
    refused = agent.submit("/locations/new", displayName="支店", ipRanges="10.0.0.0/8")
    assert refused.status_code == 400
    assert "プライベート アドレスまたは予約済みアドレス (10.0.0.0/8)" in refused.text
    assert '<span lang="en"' not in refused.text and "private" not in refused.text
    agent.go(STRENGTHS + "/new")
    refused = _post(
        agent, live, STRENGTHS + "/new", [("displayName", "鍵"), ("combination", "sms"), ("allowedAAGUIDs", "x")]
    )
    assert refused.status_code == 400 and "「パスキー (FIDO2)」の組み合わせも許可してください。" in refused.text
    agent.go(APPS + "/new")
    refused = agent.submit("/apps/new", displayName="注文", signInAudience="AzureADMyOrg", spa="http://evil.example/")
    assert refused.status_code == 400 and "https:// (または http://localhost) で始まり" in refused.text
    english = admin_agent(live, path=LOCATIONS + "/new")
    refused = english.submit("/locations/new", displayName="Branch", ipRanges="10.0.0.0/8")
    assert "private" in refused.text and '<span lang="en"' not in refused.text


def test_a_strength_an_app_requires_is_not_deleted(live, seed):
    from idp.oidc.models import Client

    agent = admin_agent(live, path=STRENGTHS + "/new")
    _post(agent, live, STRENGTHS + "/new", [("displayName", "Required"), ("combination", "fido2")])
    (row,) = _custom_strengths(seed.tenant.id)
    db.session.get(Client, seed.client_id).required_strength_id = row.id
    db.session.commit()
    agent.go(f"{STRENGTHS}/{row.id}")
    agent.submit("/delete", confirm="yes")
    assert agent.page.url.endswith(row.id) and "An application requires this authentication strength" in agent.text()
    assert _custom_strengths(seed.tenant.id)
