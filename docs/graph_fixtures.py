"""Set up a test suite's fixtures with Microsoft's msgraph-sdk, pointed at this server: a user, a group with the
user in it, an app registration with a secret and an application permission, and the latest sign-ins."""

from kiota_abstractions.authentication import (AccessTokenProvider, AllowedHostsValidator,
                                               BaseBearerTokenAuthenticationProvider)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.applications.item.add_password.add_password_post_request_body import AddPasswordPostRequestBody
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.application import Application
from msgraph.generated.models.group import Group
from msgraph.generated.models.password_credential import PasswordCredential
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.user import User


class Token(AccessTokenProvider):
    def __init__(self, token):
        self.token = token

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])


async def fixtures(base_url: str, token: str) -> dict:
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(Token(token)))
    adapter.base_url = f"{base_url}/v1.0"
    graph = GraphServiceClient(request_adapter=adapter)
    user = await graph.users.post(User(
        account_enabled=True, display_name="Test User", mail_nickname="test.user",
        user_principal_name="test.user@contoso.test",
        password_profile=PasswordProfile(password="Fixture-Passw0rd!", force_change_password_next_sign_in=False)))
    group = await graph.groups.post(Group(display_name="Testers", mail_enabled=False, mail_nickname="testers",
                                          security_enabled=True))
    await graph.groups.by_group_id(group.id).members.ref.post(
        ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{user.id}"))
    app = await graph.applications.post(Application(display_name="Service under test"))
    secret = await graph.applications.by_application_id(app.id).add_password.post(
        AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="tests")))
    sp = await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
    graph_sp = (await graph.service_principals.get(RequestConfiguration(
        query_parameters=graph.service_principals.ServicePrincipalsRequestBuilderGetQueryParameters(
            filter="appId eq '00000003-0000-0000-c000-000000000000'")))).value[0]
    user_read_all = next(role.id for role in graph_sp.app_roles if role.value == "User.Read.All")
    await graph.service_principals.by_service_principal_id(sp.id).app_role_assignments.post(
        AppRoleAssignment(principal_id=sp.id, resource_id=graph_sp.id, app_role_id=user_read_all))
    sign_ins = await graph.audit_logs.sign_ins.get(RequestConfiguration(
        query_parameters=graph.audit_logs.sign_ins.SignInsRequestBuilderGetQueryParameters(top=10)))
    return {"user": user.id, "group": group.id, "client_id": app.app_id, "client_secret": secret.secret_text,
            "sign_ins": [(s.user_principal_name, s.app_id, s.status.error_code) for s in sign_ins.value]}
