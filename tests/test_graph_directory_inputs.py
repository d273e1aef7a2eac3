"""Malformed input to every new directory operation gets a Graph 4xx, never a 500 (one server for all cases)."""

import requests

from .test_graph_directory import ga_token, tool  # noqa: F401  (fixtures)

BAD_BODIES = [
    (
        "POST",
        "/users",
        {
            "accountEnabled": "yes",
            "displayName": "x",
            "mailNickname": "x",
            "userPrincipalName": "x@contoso.test",
            "passwordProfile": {"password": "Fixture-Passw0rd!"},
        },
    ),
    (
        "POST",
        "/users",
        {
            "accountEnabled": True,
            "displayName": 5,
            "mailNickname": "x",
            "userPrincipalName": "x@contoso.test",
            "passwordProfile": {"password": "Fixture-Passw0rd!"},
        },
    ),
    (
        "POST",
        "/users",
        {
            "accountEnabled": True,
            "displayName": "x",
            "mailNickname": "bad nick",
            "userPrincipalName": "x@contoso.test",
            "passwordProfile": [],
        },
    ),
    (
        "POST",
        "/users",
        {
            "accountEnabled": True,
            "displayName": "x",
            "mailNickname": "x",
            "userPrincipalName": ["x"],
            "passwordProfile": {"password": "Fixture-Passw0rd!"},
        },
    ),
    ("PATCH", "/users/alice@contoso.test", {"usageLocation": "USA"}),
    ("PATCH", "/users/alice@contoso.test", {"passwordProfile": {"forceChangePasswordNextSignIn": "no"}}),
    ("PATCH", "/users/alice@contoso.test", {"employeeId": "1"}),
    ("POST", "/groups", {"displayName": "G", "mailEnabled": True, "mailNickname": "g", "securityEnabled": True}),
    ("POST", "/groups", {"displayName": ["G"], "mailEnabled": False, "mailNickname": "g", "securityEnabled": True}),
    ("POST", "/groups/00000000-0000-0000-0000-000000000000/members/$ref", {"@odata.id": 7}),
    ("POST", "/applications", {"displayName": "A", "web": []}),
    ("POST", "/applications", {"displayName": "A", "appRoles": [{"id": "not-a-guid", "value": "x"}]}),
    ("POST", "/applications", {"displayName": "A", "api": {"oauth2PermissionScopes": "x"}}),
    (
        "POST",
        "/applications",
        {
            "displayName": "A",
            "keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}],
        },
    ),
    ("POST", "/applications", {"displayName": "A", "signInAudience": "PersonalMicrosoftAccount"}),
    ("POST", "/applications", {"displayName": "A", "requiredResourceAccess": [{"resourceAppId": 1}]}),
    ("POST", "/servicePrincipals", {"appId": {"x": 1}}),
    ("POST", "/oauth2PermissionGrants", {"clientId": 1, "consentType": "AllPrincipals", "resourceId": 2, "scope": 3}),
    ("POST", "/roleManagement/directory/roleAssignments", {"principalId": 5, "roleDefinitionId": []}),
    ("POST", "/$batch", {"requests": "all"}),
    ("POST", "/$batch", {"requests": [{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["2"]}]}),
]
BAD_QUERIES = [
    "startswith(displayName",
    "displayName eq 'a' and",
    "((((",
    "displayName in ()",
    "x eq 1",
    "accountEnabled eq 'true'",
    "displayName eq 'a' or or",
    "id eq 12",
    "'a' eq displayName",
]


def test_malformed_directory_input_is_a_graph_4xx(live, seed, ga_token):
    headers = {"Authorization": f"Bearer {ga_token}"}
    for method, path, body in BAD_BODIES:
        response = requests.request(method, f"{live.url}/v1.0{path}", json=body, headers=headers)
        assert 400 <= response.status_code < 500, (method, path, body, response.status_code, response.text[:300])
        assert response.json()["error"]["code"], (path, body)
    for expression in BAD_QUERIES:
        for collection in ("users", "groups", "applications", "servicePrincipals", "auditLogs/signIns"):
            response = requests.get(f"{live.url}/v1.0/{collection}", params={"$filter": expression}, headers=headers)
            assert response.status_code == 400, (collection, expression, response.status_code, response.text[:300])
    not_json = requests.post(
        f"{live.url}/v1.0/users", data="{", headers={**headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
