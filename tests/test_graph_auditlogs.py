"""The sign-in and audit logs through Graph (msgraph-sdk): what each sign-in step and admin change left."""

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.audit_logs.directory_audits.directory_audits_request_builder import DirectoryAuditsRequestBuilder
from msgraph.generated.audit_logs.sign_ins.sign_ins_request_builder import SignInsRequestBuilder
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
import pytest
import requests

from . import graph_sdk
from .support import PASSWORD, REDIRECT, Agent, app_client, app_token, delegated_sign_in
from .test_graph_directory import ga_token, new_user, tool  # noqa: F401  (fixtures)


def failed_password(live, tool, upn):
    agent = Agent(live.url)
    agent.go(
        f"/contoso.test/oauth2/v2.0/authorize?client_id={tool[0]}&response_type=code&redirect_uri={REDIRECT}"
        f"&scope=openid&code_challenge={'a' * 43}&code_challenge_method=S256"
    )
    agent.submit("/login", username=upn)
    agent.submit("/login/method/password", password="not the password")


def test_sign_ins_with_status_codes_apps_and_steps(live, seed, tool):
    delegated_sign_in(live.url, "contoso.test", tool, "alice@contoso.test", PASSWORD)
    failed_password(live, tool, "alice@contoso.test")
    reader = app_token(live.url, "contoso.test", *app_client(seed.tenant, ["AuditLog.Read.All"]))
    config = RequestConfiguration(
        query_parameters=SignInsRequestBuilder.SignInsRequestBuilderGetQueryParameters(
            filter="userPrincipalName eq 'alice@contoso.test' and createdDateTime ge 2000-01-01T00:00:00Z"
        )
    )
    page = graph_sdk.run(lambda: graph_sdk.client(live.url, reader).audit_logs.sign_ins.get(config))
    failure, success = page.value  # newest first
    assert failure.status.error_code == 50126 and failure.status.failure_reason == "invalid password"
    assert success.status.error_code == 0 and success.app_id == tool[0] and success.app_display_name == "Directory tool"
    assert success.user_display_name == "Alice Example" and success.ip_address == "127.0.0.1"
    assert success.status.additional_details == "the user has no MFA method registered"
    # authenticationDetails and authenticationRequirement are beta properties: read them with msgraph-beta-sdk
    from msgraph_beta.generated.audit_logs.sign_ins.sign_ins_request_builder import SignInsRequestBuilder as BetaSignIns

    beta_config = RequestConfiguration(
        query_parameters=BetaSignIns.SignInsRequestBuilderGetQueryParameters(
            filter="userPrincipalName eq 'alice@contoso.test'"
        )
    )
    beta = graph_sdk.run(lambda: graph_sdk.client(live.url, reader, beta=True).audit_logs.sign_ins.get(beta_config))
    beta_failure, beta_success = beta.value
    assert [(d.authentication_method, d.succeeded) for d in beta_success.authentication_details] == [("Password", True)]
    assert [(d.authentication_method, d.succeeded) for d in beta_failure.authentication_details] == [
        ("Password", False)
    ]
    assert beta_success.authentication_requirement == "singleFactorAuthentication"


def test_directory_audits_name_the_actor_and_the_target(live, seed, ga_token):
    created = graph_sdk.run(lambda: graph_sdk.client(live.url, ga_token).users.post(new_user()))
    config = RequestConfiguration(
        query_parameters=DirectoryAuditsRequestBuilder.DirectoryAuditsRequestBuilderGetQueryParameters(
            filter="activityDisplayName eq 'Add user'"
        )
    )
    page = graph_sdk.run(lambda: graph_sdk.client(live.url, ga_token).audit_logs.directory_audits.get(config))
    (entry,) = page.value
    assert entry.category == "UserManagement" and entry.operation_type == "Add" and entry.result.value == "success"
    assert entry.initiated_by.user.user_principal_name == "admin@contoso.test"
    (target,) = entry.target_resources
    assert target.id == created.id and target.user_principal_name == "dana@contoso.test"
    assert {"displayName", "userPrincipalName"} <= {p.display_name for p in target.modified_properties}


def test_logs_need_audit_log_read_and_a_reader_role(live, seed, tool):
    alice = delegated_sign_in(live.url, "contoso.test", tool, "alice@contoso.test")[0]["access_token"]
    with pytest.raises(ODataError) as caught:
        graph_sdk.run(lambda: graph_sdk.client(live.url, alice).audit_logs.sign_ins.get())
    assert caught.value.response_status_code == 403
    users_only = app_token(live.url, "contoso.test", *app_client(seed.tenant, ["User.Read.All"]))
    assert (
        requests.get(
            f"{live.url}/v1.0/auditLogs/directoryAudits", headers={"Authorization": f"Bearer {users_only}"}
        ).status_code
        == 403
    )
