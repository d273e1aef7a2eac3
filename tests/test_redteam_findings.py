"""Findings of the red-team pass over the Entra flows, the Graph directory, phones/push and stateless tokens,
each kept as a regression test."""

import requests

from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.oidc.clients import create_client

from .support import DIRECTORY_SCOPES, PASSWORD, REDIRECT, GraphClient, app_token, delegated_sign_in

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ROLE_MANAGEMENT_WRITE = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"
GA_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"


def _delegated(live, seed, upn, roles):
    directory.create_user(seed.tenant, upn, upn.split("@")[0], PASSWORD, roles)
    tool, secret = create_client(seed.tenant, "Directory tool", [REDIRECT], scopes=DIRECTORY_SCOPES)
    db.session.commit()
    token = delegated_sign_in(live.url, "contoso.test", (tool.id, secret), upn)[0]["access_token"]
    return GraphClient(live.url, token)


def test_an_application_administrator_cannot_grant_microsoft_graph_application_permissions(live, seed):
    """Entra: only a Privileged Role Administrator (or Global Administrator) may grant Microsoft Graph's app roles;
    otherwise an Application Administrator grants their own app RoleManagement.ReadWrite.Directory and makes
    themselves Global Administrator with it."""
    graph = _delegated(live, seed, "appadmin@contoso.test", [Roles.APP_ADMIN])
    app = graph("POST", "/applications", {"displayName": "Escalator"}).json()
    secret = graph("POST", f"/applications/{app['id']}/addPassword", {}).json()["secretText"]
    sp = graph("POST", "/servicePrincipals", {"appId": app["appId"]}).json()
    graph_sp = graph("GET", f"/servicePrincipals(appId='{GRAPH_APP_ID}')").json()
    granted = graph(
        "POST",
        f"/servicePrincipals/{sp['id']}/appRoleAssignments",
        {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": ROLE_MANAGEMENT_WRITE},
    )
    assert granted.status_code == 403, granted.text
    assert granted.json()["error"]["code"] == "Authorization_RequestDenied"
    assigned_to = graph(
        "POST",
        f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
        {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": ROLE_MANAGEMENT_WRITE},
    )
    assert assigned_to.status_code == 403
    token = app_token(live.url, "contoso.test", app["appId"], secret)
    made = GraphClient(live.url, token)(
        "POST",
        "/roleManagement/directory/roleAssignments",
        {"principalId": seed.alice.id, "roleDefinitionId": GA_TEMPLATE, "directoryScopeId": "/"},
    )
    assert made.status_code == 403


def test_an_app_with_user_readwrite_all_cannot_take_over_an_administrator(live, seed):
    """Red-team finding 2: an app-only token with User.ReadWrite.All reset a Global Administrator's password."""
    from .support import app_client

    client_id, secret = app_client(seed.tenant, ["User.ReadWrite.All"])
    db.session.commit()
    token = app_token(live.url, "contoso.test", client_id, secret)
    answer = requests.patch(
        f"{live.url}/v1.0/users/{seed.admin.id}",
        json={"passwordProfile": {"password": "Taken-0ver-Passw0rd!", "forceChangePasswordNextSignIn": False}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
