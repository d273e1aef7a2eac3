"""passwordMethods and an administrator's resetPassword through msgraph-sdk: the given or a generated password,
202 with the operation in Location, a change asked at the next sign-in (as Graph documents), and the roles."""

from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.authentication.methods.item.reset_password.reset_password_post_request_body import (
    ResetPasswordPostRequestBody,
)
import pytest
import requests
from sqlalchemy import select

from idp.audit.models import AuditLog
from idp.extensions import db

from . import graph_sdk
from .support import REDIRECT, Agent, app_client, app_token, delegated_sign_in
from .test_graph_directory import tool  # noqa: F401  (fixture)
from .test_graph_shell import assert_graph_error

PASSWORD_ID = "28c10230-6103-485e-b985-444c60001490"
NEW = "Reset-Passw0rd!"


def sdk(graph_client):
    return graph_sdk.client(graph_client.base, graph_client.http.headers["Authorization"].removeprefix("Bearer "))


def password_page(base, client_id, upn, password) -> Agent:
    """Sign in with a password up to the page that follows it."""
    agent = Agent(base)
    agent.go(
        f"/contoso.test/oauth2/v2.0/authorize?client_id={client_id}&response_type=code&redirect_uri={REDIRECT}"
        f"&scope=openid&code_challenge={'a' * 43}&code_challenge_method=S256"
    )
    agent.submit("/login", username=upn)
    agent.submit("/login/method/password", password=password)
    return agent


def test_an_authentication_admin_resets_a_password_which_the_user_changes_at_next_sign_in(live, graph_as, tool):  # noqa: F811
    before = delegated_sign_in(
        live.url, "contoso.test", tool, "bob@contoso.test", "pw-bob-123", "openid offline_access"
    )

    async def scenario():
        graph = sdk(graph_as("aa"))
        methods = graph.users.by_user_id("bob@contoso.test").authentication
        listed = await methods.password_methods.get()
        one = await methods.password_methods.by_password_authentication_method_id(PASSWORD_ID).get()
        reset = await methods.methods.by_authentication_method_id(PASSWORD_ID).reset_password.post(
            ResetPasswordPostRequestBody(new_password=NEW)
        )
        return listed.value, one, reset

    listed, one, reset = graph_sdk.run(scenario)
    assert [m.id for m in listed] == [PASSWORD_ID] and one.id == PASSWORD_ID and one.password is None
    assert reset is None or reset.new_password is None  # the admin chose it: nothing to hand back
    refreshed = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        auth=tool,
        data={"grant_type": "refresh_token", "refresh_token": before[0]["refresh_token"], "scope": "openid"},
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"  # the reset ended it
    assert "/login/newpassword" not in password_page(live.url, tool[0], "bob@contoso.test", "pw-bob-123").page.url
    agent = password_page(live.url, tool[0], "bob@contoso.test", NEW)
    assert "/login/newpassword" in agent.page.url  # Graph: "prompted to change their password on their next sign in"
    agent.submit("/login/newpassword", new_password="Bobs-Own-Passw0rd", confirm_password="Bobs-Own-Passw0rd")
    agent.submit("/login/kmsi", stay="no")
    assert "code" in agent.redirect_params()


def test_a_reset_without_a_password_returns_a_generated_one_and_its_operation(live, staff, graph_as, tool):  # noqa: F811
    aa = graph_as("aa")
    response = aa(
        "POST", f"/users/bob@contoso.test/authentication/passwordMethods/{PASSWORD_ID}/resetPassword", json={}
    )
    assert response.status_code == 202, response.text
    generated = response.json()["newPassword"]
    assert generated and len(generated) >= 8
    location = response.headers["Location"]
    assert location.startswith(f"{live.url}/v1.0/users/") and "/authentication/operations/" in location
    status = aa("GET", location.removeprefix(f"{live.url}/v1.0"))
    assert status.status_code == 200 and status.json()["status"] == "succeeded"
    assert "/login/newpassword" in password_page(live.url, tool[0], "bob@contoso.test", generated).page.url
    entry = db.session.scalars(select(AuditLog).where(AuditLog.activity == "Reset user password")).one()
    assert entry.target_id == staff["bob"].id and entry.after["passwordGenerated"] is True


def test_reset_password_refuses_admins_oneself_apps_weak_passwords_and_other_methods(live, seed, graph_as):
    aa = graph_as("aa")
    path = "/users/{}/authentication/methods/{}/resetPassword"
    body = {"newPassword": NEW}
    assert_graph_error(aa("POST", path.format("carol@contoso.test", PASSWORD_ID), json=body), 403)
    assert_graph_error(aa("POST", path.format("aa@contoso.test", PASSWORD_ID), json=body), 403)
    assert_graph_error(graph_as("gr")("POST", path.format("bob@contoso.test", PASSWORD_ID), json=body), 403)
    weak = aa("POST", path.format("bob@contoso.test", PASSWORD_ID), json={"newPassword": "weak"})
    assert "complexity" in assert_graph_error(weak, 400, "Request_BadRequest")["message"]
    other = aa("POST", path.format("bob@contoso.test", "00000000-0000-0000-0000-000000000001"), json=body)
    assert_graph_error(other, 404, "Request_ResourceNotFound")
    daemon = graph_sdk.client(
        live.url,
        app_token(live.url, "contoso.test", *app_client(seed.tenant, ["UserAuthenticationMethod.ReadWrite.All"])),
    )
    with pytest.raises(ODataError) as refused:
        graph_sdk.run(
            lambda: (
                daemon.users.by_user_id("bob@contoso.test")
                .authentication.methods.by_authentication_method_id(PASSWORD_ID)
                .reset_password.post(ResetPasswordPostRequestBody(new_password=NEW))
            )
        )
    assert refused.value.response_status_code == 403
    # the Privileged Authentication Administrator resets an admin's password
    assert graph_as("paa")("POST", path.format("carol@contoso.test", PASSWORD_ID), json=body).status_code == 202
