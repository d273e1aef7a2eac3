"""The Graph directory (users, /me, groups, directory objects) driven with Microsoft's msgraph-sdk typed models."""

import pytest
import requests
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from sqlalchemy import select

from idp.audit.models import AuditLog
from idp.directory import service as directory
from idp.directory.models import GroupMember, Roles
from idp.extensions import db
from idp.oidc.clients import create_client

from . import graph_sdk
from .support import (
    DIRECTORY_SCOPES,
    PASSWORD,
    REDIRECT,
    Agent,
    app_client,
    app_token,
    delegated_sign_in,
)

STRONG = "Fixture-Passw0rd!"


@pytest.fixture
def tool(seed):
    client, secret = create_client(seed.tenant, "Directory tool", [REDIRECT], scopes=DIRECTORY_SCOPES)
    db.session.commit()
    return client.id, secret


@pytest.fixture
def ga_token(live, tool):
    return delegated_sign_in(live.url, "contoso.test", tool, "admin@contoso.test")[0]["access_token"]


def odata_error(coroutine) -> ODataError:
    with pytest.raises(ODataError) as caught:
        graph_sdk.run(lambda: coroutine)
    return caught.value


def new_user(upn="dana@contoso.test", force=False, enabled=True, password=STRONG) -> User:
    return User(
        account_enabled=enabled,
        display_name="Dana Scully",
        mail_nickname=upn.split("@")[0],
        user_principal_name=upn,
        given_name="Dana",
        surname="Scully",
        password_profile=PasswordProfile(force_change_password_next_sign_in=force, password=password),
    )


def test_users_are_created_read_updated_and_deleted_with_the_sdk(live, seed, ga_token):
    async def scenario():
        graph = graph_sdk.client(live.url, ga_token)
        created = await graph.users.post(new_user())
        by_upn = await graph.users.by_user_id("Dana@contoso.test").get()
        await graph.users.by_user_id(created.id).patch(
            User(job_title="Agent", department="X-Files", usage_location="US")
        )
        updated = await graph.users.by_user_id(created.id).get()
        found = await graph.users.get(
            RequestConfiguration(
                query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
                    filter="department eq 'X-Files'", select=["displayName", "jobTitle"]
                )
            )
        )
        await graph.users.by_user_id(created.id).delete()
        return created, by_upn, updated, found

    created, by_upn, updated, found = graph_sdk.run(scenario)
    assert created.user_principal_name == "dana@contoso.test" and created.account_enabled is True
    assert by_upn.id == created.id and by_upn.given_name == "Dana"
    assert (updated.job_title, updated.department, updated.usage_location) == ("Agent", "X-Files", "US")
    assert [(u.id, u.display_name, u.job_title, u.mail) for u in found.value] == [
        (created.id, "Dana Scully", "Agent", None)
    ]
    assert directory.find_user(seed.tenant, "dana@contoso.test") is None
    activities = db.session.scalars(
        select(AuditLog.activity).where(AuditLog.target_id == created.id).order_by(AuditLog.created_at)
    ).all()
    assert activities == ["Add user", "Update user", "Delete user"]


def test_user_creation_errors_are_graphs(live, seed, ga_token):
    graph_sdk.run(lambda: graph_sdk.client(live.url, ga_token).users.post(new_user()))
    duplicate = odata_error(graph_sdk.client(live.url, ga_token).users.post(new_user("DANA@contoso.test")))
    assert duplicate.response_status_code == 400 and duplicate.error.code == "Request_BadRequest"
    assert (
        duplicate.error.message == "Another object with the same value for property userPrincipalName already exists."
    )
    assert [(d.code, d.target) for d in duplicate.error.details] == [("ObjectConflict", "userPrincipalName")]
    foreign = odata_error(graph_sdk.client(live.url, ga_token).users.post(new_user("eve@fabrikam.test")))
    assert foreign.response_status_code == 400 and "verified domain names" in foreign.error.message
    weak = odata_error(
        graph_sdk.client(live.url, ga_token).users.post(new_user("weak@contoso.test", password="aaaaaaaa"))
    )
    assert "password complexity" in weak.error.message
    missing = requests.post(
        f"{live.url}/v1.0/users", json={"displayName": "x"}, headers={"Authorization": f"Bearer {ga_token}"}
    )
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "Request_BadRequest"
    absent = odata_error(graph_sdk.client(live.url, ga_token).users.by_user_id("nobody@contoso.test").get())
    assert absent.response_status_code == 404 and absent.error.code == "Request_ResourceNotFound"


def test_user_writes_need_the_permission_and_a_user_administrator(live, seed, tool):
    bob = directory.create_user(seed.tenant, "bob@contoso.test", "Bob", PASSWORD)
    directory.create_user(seed.tenant, "ua@contoso.test", "UA", PASSWORD, [Roles.USER_ADMIN])
    db.session.commit()
    member = delegated_sign_in(live.url, "contoso.test", tool, "alice@contoso.test")[0]["access_token"]
    denied = odata_error(graph_sdk.client(live.url, member).users.post(new_user()))
    assert denied.response_status_code == 403 and denied.error.code == "Authorization_RequestDenied"
    reader = graph_sdk.run(lambda: graph_sdk.client(live.url, member).users.by_user_id(bob.id).get())
    assert reader.display_name == "Bob"  # members read the directory (Entra's default user permissions)
    ua = delegated_sign_in(live.url, "contoso.test", tool, "ua@contoso.test")[0]["access_token"]
    graph_sdk.run(lambda: graph_sdk.client(live.url, ua).users.by_user_id(bob.id).patch(User(job_title="Pilot")))
    on_admin = odata_error(
        graph_sdk.client(live.url, ua).users.by_user_id("admin@contoso.test").patch(User(account_enabled=False))
    )
    assert on_admin.response_status_code == 403  # a User Administrator cannot disable a Global Administrator
    daemon = app_token(live.url, "contoso.test", *app_client(seed.tenant, ["User.Read.All"]))
    app_denied = odata_error(graph_sdk.client(live.url, daemon).users.post(new_user()))
    assert app_denied.response_status_code == 403
    writer = app_token(live.url, "contoso.test", *app_client(seed.tenant, ["User.ReadWrite.All"]))
    made = graph_sdk.run(lambda: graph_sdk.client(live.url, writer).users.post(new_user()))
    assert made.id


def test_a_disabled_account_cannot_sign_in_and_its_sessions_and_refresh_tokens_end(live, seed, tool, ga_token):
    tokens, _browser = delegated_sign_in(
        live.url,
        "contoso.test",
        tool,
        "alice@contoso.test",
        scope="openid offline_access https://graph.microsoft.com/.default",
    )
    me = requests.get(f"{live.url}/v1.0/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    graph_sdk.run(
        lambda: graph_sdk.client(live.url, ga_token).users.by_user_id(seed.alice.id).patch(User(account_enabled=False))
    )
    refreshed = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        auth=tool,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert (
        requests.get(f"{live.url}/v1.0/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code
        == 401
    )
    agent = Agent(live.url)
    agent.go(
        f"/contoso.test/oauth2/v2.0/authorize?client_id={tool[0]}&response_type=code&redirect_uri={REDIRECT}"
        f"&scope=openid&code_challenge={'a' * 43}&code_challenge_method=S256"
    )
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    assert "Your account has been locked. Contact your support person to unlock it, then try again." in agent.text()
    activities = db.session.scalars(select(AuditLog.activity).where(AuditLog.target_id == seed.alice.id)).all()
    assert {"Update user", "Disable account"} <= set(activities)


def test_revoke_sign_in_sessions_ends_the_browser_session_and_refresh_tokens(live, seed, tool, ga_token):
    tokens, browser = delegated_sign_in(
        live.url,
        "contoso.test",
        tool,
        "alice@contoso.test",
        scope="openid offline_access https://graph.microsoft.com/.default",
    )
    authorize = (
        f"/contoso.test/oauth2/v2.0/authorize?client_id={tool[0]}&response_type=code&redirect_uri={REDIRECT}"
        f"&scope=openid&code_challenge={'a' * 43}&code_challenge_method=S256"
    )
    browser.go(authorize)
    assert browser.location.startswith(REDIRECT)  # single sign-on: straight back with a code
    answer = graph_sdk.run(
        lambda: graph_sdk.client(live.url, ga_token).users.by_user_id(seed.alice.id).revoke_sign_in_sessions.post()
    )
    assert answer.value is True
    browser.go(authorize)
    assert "/login" in browser.page.url  # asked to sign in again
    refreshed = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        auth=tool,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.json()["error"] == "invalid_grant"
    user = graph_sdk.run(lambda: graph_sdk.client(live.url, ga_token).users.by_user_id(seed.alice.id).get())
    assert user.sign_in_sessions_valid_from_date_time is not None


def test_me_and_member_of_for_a_delegated_token(live, seed, tool, ga_token):
    async def scenario():
        admin = graph_sdk.client(live.url, ga_token)
        group = await admin.groups.post(
            Group(display_name="Pilot", mail_enabled=False, mail_nickname="pilot", security_enabled=True)
        )
        await admin.groups.by_group_id(group.id).members.ref.post(
            ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{seed.alice.id}")
        )
        return group

    group = graph_sdk.run(scenario)
    alice = delegated_sign_in(live.url, "contoso.test", tool, "alice@contoso.test")[0]["access_token"]

    async def as_alice():
        graph = graph_sdk.client(live.url, alice)
        return await graph.me.get(), await graph.me.member_of.get()

    me, member_of = graph_sdk.run(as_alice)
    assert me.user_principal_name == "alice@contoso.test"
    assert [(o.odata_type, o.id, o.display_name) for o in member_of.value] == [
        ("#microsoft.graph.group", group.id, "Pilot")
    ]
    admin_roles = graph_sdk.run(lambda: graph_sdk.client(live.url, ga_token).me.member_of.get())
    assert [o.display_name for o in admin_roles.value] == ["Global Administrator"]
    daemon = app_token(live.url, "contoso.test", seed.app_client_id, seed.app_client_secret)
    refused = requests.get(f"{live.url}/v1.0/me", headers={"Authorization": f"Bearer {daemon}"})
    assert refused.status_code == 400 and "delegated authentication flow" in refused.json()["error"]["message"]


def test_deleting_a_user_removes_memberships_methods_and_tokens(live, seed, tool, ga_token):
    from idp.methods.tap.models import TemporaryAccessPass
    from idp.oidc.models import Token

    from .test_tap_signin import enable_tap

    enable_tap(seed.tenant.id)
    pilot = directory.create_group(seed.tenant, "Pilot")
    directory.add_member(pilot, seed.alice)
    db.session.commit()
    headers, alice_id = {"Authorization": f"Bearer {ga_token}"}, seed.alice.id
    assert (
        requests.post(
            f"{live.url}/v1.0/users/{alice_id}/authentication/temporaryAccessPassMethods", json={}, headers=headers
        ).status_code
        == 201
    )
    alice_token = delegated_sign_in(live.url, "contoso.test", tool, "alice@contoso.test")[0]["access_token"]
    graph_sdk.run(lambda: graph_sdk.client(live.url, ga_token).users.by_user_id(alice_id).delete())
    db.session.expire_all()
    assert requests.get(f"{live.url}/v1.0/me", headers={"Authorization": f"Bearer {alice_token}"}).status_code == 401
    assert db.session.scalar(select(GroupMember).where(GroupMember.user_id == alice_id)) is None
    assert db.session.scalar(select(TemporaryAccessPass).where(TemporaryAccessPass.user_id == alice_id)) is None
    assert db.session.scalar(select(Token).where(Token.user_id == alice_id)) is None
    members = requests.get(f"{live.url}/v1.0/groups/{pilot.id}/members", headers=headers).json()["value"]
    assert members == []


def test_force_change_password_next_sign_in_is_honoured(live, seed, tool, ga_token):
    created = graph_sdk.run(lambda: graph_sdk.client(live.url, ga_token).users.post(new_user(force=True)))
    assert created.id
    agent = Agent(live.url)
    agent.go(
        f"/contoso.test/oauth2/v2.0/authorize?client_id={tool[0]}&response_type=code&redirect_uri={REDIRECT}"
        f"&scope=openid&code_challenge={'a' * 43}&code_challenge_method=S256"
    )
    agent.submit("/login", username="dana@contoso.test")
    agent.submit("/login/method/password", password=STRONG)
    assert "Update your password" in agent.text() and "/login/newpassword" in agent.page.url
    agent.submit("/login/newpassword", new_password="Another-Passw0rd", confirm_password="Different-Passw0rd")
    assert agent.page.status_code == 400 and "The passwords don't match." in agent.text()
    agent.submit("/login/newpassword", new_password="weakweak", confirm_password="weakweak")
    assert "at least three of the following" in agent.text()
    agent.submit("/login/newpassword", new_password=STRONG, confirm_password=STRONG)
    assert "reuse your current password" in agent.text()
    agent.submit("/login/newpassword", new_password="Another-Passw0rd", confirm_password="Another-Passw0rd")
    agent.submit("/login/kmsi", stay="no")
    assert "code" in agent.redirect_params()
    user = directory.find_user(seed.tenant, "dana@contoso.test")
    db.session.refresh(user)
    assert user.force_change_password is False
    again = delegated_sign_in(live.url, "contoso.test", tool, "dana@contoso.test", "Another-Passw0rd")[0]
    assert again["access_token"]  # straight through: no second change asked
    assert (
        "Change user password"
        in db.session.scalars(select(AuditLog.activity).where(AuditLog.target_id == user.id)).all()
    )


def test_the_cli_disables_and_revokes_through_the_same_service(app, live, seed, tool):
    tokens, _ = delegated_sign_in(
        live.url,
        "contoso.test",
        tool,
        "alice@contoso.test",
        scope="openid offline_access https://graph.microsoft.com/.default",
    )
    result = app.test_cli_runner().invoke(
        args=["idp", "update-user", "--tenant", "contoso.test", "--upn", "alice@contoso.test", "--disable", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"accountEnabled": false' in result.output
    refreshed = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        auth=tool,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.json()["error"] == "invalid_grant"
    assert (
        requests.get(f"{live.url}/v1.0/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code
        == 401
    )
