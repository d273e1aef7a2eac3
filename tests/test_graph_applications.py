"""App registrations through Graph with msgraph-sdk: applications, secrets, service principals, application
permissions that the next app-only token carries, delegated grants, and Microsoft Graph's own service principal."""

import pytest
import requests
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.applications.item.add_password.add_password_post_request_body import (
    AddPasswordPostRequestBody,
)
from msgraph.generated.applications.item.remove_password.remove_password_post_request_body import (
    RemovePasswordPostRequestBody,
)
from msgraph.generated.models.api_application import ApiApplication
from msgraph.generated.models.app_role import AppRole
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.application import Application
from msgraph.generated.models.o_auth2_permission_grant import OAuth2PermissionGrant
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_credential import PasswordCredential
from msgraph.generated.models.permission_scope import PermissionScope
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.web_application import WebApplication
from msgraph.generated.service_principals.service_principals_request_builder import (
    ServicePrincipalsRequestBuilder,
)

from . import graph_sdk
from .support import REDIRECT, app_client, app_token, delegated_sign_in
from .test_graph_directory import ga_token, tool  # noqa: F401  (fixtures)

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
USER_READ_ALL = "df021288-bdef-4463-88db-98f22de89214"


def token_for(base, client_id, secret, scope="https://graph.microsoft.com/.default"):
    return requests.post(
        f"{base}/contoso.test/oauth2/v2.0/token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials", "scope": scope},
    )


def claims(token):
    import base64
    import json

    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_an_app_registered_through_graph_signs_in_and_gets_its_application_permission(live, seed, ga_token):
    async def scenario():
        graph = graph_sdk.client(live.url, ga_token)
        app = await graph.applications.post(
            Application(
                display_name="Fixture daemon",
                sign_in_audience="AzureADMyOrg",
                web=WebApplication(redirect_uris=[REDIRECT]),
            )
        )
        secret = await graph.applications.by_application_id(app.id).add_password.post(
            AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="ci"))
        )
        sp = await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
        found = await graph.service_principals.get(
            RequestConfiguration(
                query_parameters=ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
                    filter=f"appId eq '{GRAPH_APP_ID}'"
                )
            )
        )
        return app, secret, sp, found.value

    app, secret, sp, graph_sps = graph_sdk.run(scenario)
    assert secret.secret_text and secret.hint == secret.secret_text[:3] and secret.key_id
    assert app.app_id != app.id
    (graph_sp,) = graph_sps
    assert graph_sp.display_name == "Microsoft Graph" and USER_READ_ALL in {str(r.id) for r in graph_sp.app_roles}
    first = token_for(live.url, app.app_id, secret.secret_text)
    assert first.status_code == 200 and claims(first.json()["access_token"])["roles"] == []
    listed = requests.get(f"{live.url}/v1.0/users", headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert listed.status_code == 403 and listed.json()["error"]["code"] == "Authorization_RequestDenied"

    async def grant():
        graph = graph_sdk.client(live.url, ga_token)
        made = await graph.service_principals.by_service_principal_id(sp.id).app_role_assignments.post(
            AppRoleAssignment(principal_id=sp.id, resource_id=graph_sp.id, app_role_id=USER_READ_ALL)
        )
        held = await graph.service_principals.by_service_principal_id(graph_sp.id).app_role_assigned_to.get()
        return made, held

    made, held = graph_sdk.run(grant)
    assert str(made.app_role_id) == USER_READ_ALL and str(made.resource_id) == graph_sp.id
    assert [str(a.principal_id) for a in held.value] == [sp.id]
    token = token_for(live.url, app.app_id, secret.secret_text).json()["access_token"]
    assert claims(token)["roles"] == ["User.Read.All"]
    users = requests.get(f"{live.url}/v1.0/users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200 and len(users.json()["value"]) >= 2

    async def revoke():
        graph = graph_sdk.client(live.url, ga_token)
        await (
            graph.service_principals.by_service_principal_id(sp.id)
            .app_role_assignments.by_app_role_assignment_id(made.id)
            .delete()
        )
        await graph.applications.by_application_id(app.id).remove_password.post(
            RemovePasswordPostRequestBody(key_id=secret.key_id)
        )

    graph_sdk.run(revoke)
    assert token_for(live.url, app.app_id, secret.secret_text).status_code == 401


def test_an_api_with_scopes_and_roles_and_a_delegated_grant(live, seed, ga_token):
    role_id, scope_id = "8f4d0c1e-7a7b-4c7e-9d55-3f3a0e6b1a11", "2b9c1f4e-5d6a-4e8f-a1b2-c3d4e5f60718"

    async def scenario():
        graph = graph_sdk.client(live.url, ga_token)
        api = await graph.applications.post(
            Application(
                display_name="Orders API",
                identifier_uris=["api://orders"],
                api=ApiApplication(
                    oauth2_permission_scopes=[
                        PermissionScope(
                            id=scope_id,
                            value="Orders.Read",
                            type="User",
                            admin_consent_display_name="Read orders",
                            admin_consent_description="Read orders",
                            is_enabled=True,
                        )
                    ]
                ),
                app_roles=[
                    AppRole(
                        id=role_id,
                        value="Orders.ReadAll",
                        display_name="Read all orders",
                        description="Read all orders",
                        allowed_member_types=["Application"],
                        is_enabled=True,
                    )
                ],
            )
        )
        api_sp = await graph.service_principals.post(ServicePrincipal(app_id=api.app_id))
        daemon = await graph.applications.post(Application(display_name="Orders worker"))
        secret = await graph.applications.by_application_id(daemon.id).add_password.post(
            AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="w"))
        )
        daemon_sp = await graph.service_principals.post(ServicePrincipal(app_id=daemon.app_id))
        await graph.service_principals.by_service_principal_id(api_sp.id).app_role_assigned_to.post(
            AppRoleAssignment(principal_id=daemon_sp.id, resource_id=api_sp.id, app_role_id=role_id)
        )
        grant = await graph.oauth2_permission_grants.post(
            OAuth2PermissionGrant(
                client_id=daemon_sp.id, consent_type="AllPrincipals", resource_id=api_sp.id, scope="Orders.Read"
            )
        )
        grants = await graph.oauth2_permission_grants.get()
        return api, daemon, secret, grant, grants

    api, daemon, secret, grant, grants = graph_sdk.run(scenario)
    token = token_for(live.url, daemon.app_id, secret.secret_text, scope="api://orders/.default").json()["access_token"]
    assert claims(token)["roles"] == ["Orders.ReadAll"] and claims(token)["aud"] == api.app_id
    assert grant.scope == "Orders.Read" and grant.id in {g.id for g in grants.value}


def test_application_errors_and_permissions(live, seed, ga_token):
    with pytest.raises(ODataError) as caught:
        graph_sdk.run(
            lambda: graph_sdk.client(live.url, ga_token).applications.post(
                Application(display_name="Bad", web=WebApplication(redirect_uris=["http://evil.example/cb"]))
            )
        )
    assert caught.value.response_status_code == 400 and "redirectUris" in caught.value.error.message
    reader = app_token(live.url, "contoso.test", *app_client(seed.tenant, ["Application.Read.All"]))
    with pytest.raises(ODataError) as denied:
        graph_sdk.run(lambda: graph_sdk.client(live.url, reader).applications.post(Application(display_name="x")))
    assert denied.value.response_status_code == 403
    listed = graph_sdk.run(lambda: graph_sdk.client(live.url, reader).applications.get())
    assert {"Web app", "Daemon"} <= {a.display_name for a in listed.value}
    by_app_id = requests.get(
        f"{live.url}/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')", headers={"Authorization": f"Bearer {reader}"}
    )
    assert by_app_id.status_code == 200 and by_app_id.json()["appId"] == GRAPH_APP_ID
    absent = requests.get(
        f"{live.url}/v1.0/applications/00000000-0000-0000-0000-000000000001",
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert absent.status_code == 404 and absent.json()["error"]["code"] == "Request_ResourceNotFound"


def test_a_public_client_registered_through_graph_signs_a_user_in(live, seed, ga_token):
    from msgraph.generated.models.public_client_application import (
        PublicClientApplication,
    )

    app = graph_sdk.run(
        lambda: graph_sdk.client(live.url, ga_token).applications.post(
            Application(
                display_name="CLI tool",
                is_fallback_public_client=True,
                public_client=PublicClientApplication(redirect_uris=[REDIRECT]),
            )
        )
    )
    tokens, _ = delegated_sign_in(
        live.url, "contoso.test", (app.app_id, None), "alice@contoso.test", scope="openid User.Read"
    )
    assert claims(tokens["access_token"])["scp"] == "User.Read"
