"""The admin API's shell, for every operation at once: Graph's permission table (delegated `scp`, app-only
`roles`), bodies through the one bounded loader and the operation's schema, and Graph's error shape."""

import re

import pytest
import requests

from idp.kit.graph import OPERATIONS
from idp.kit.graph_permissions import TABLE, for_operation

from .support import REDIRECT, GraphClient, admin_tool, app_client, app_token, delegated_token

PLACEHOLDERS = {"user_ref": "bob@contoso.test", "minutes": "10", "section": "accountLockout", "config_id": "Fido2"}
NESTED = "[" * 50_000 + "]" * 50_000


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "00000000-0000-0000-0000-000000000000"), path)


def operations(me=False):
    """Every (path, METHOD); /me/... (the same operations on oneself) only when asked."""
    return sorted({(path, method.upper()) for path, method, _ in OPERATIONS if me or not path.startswith("/me")})


def assert_graph_error(response, status, code=None, client_request_id=None):
    assert response.status_code == status, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "innerError"} and error["message"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    if code:
        assert error["code"] == code, error
    if client_request_id:
        assert error["innerError"]["client-request-id"] == client_request_id
        assert response.headers["client-request-id"] == client_request_id
    return error


# --- M-3: the permission table ------------------------------------------------------------------------


def test_every_operation_has_a_row_of_the_table_and_the_document_shows_it(app, live):
    doc = requests.get(f"{live.url}/graph/openapi.json").json()
    for path, method in operations(me=True):
        row = for_operation(path, method)
        assert row.delegated or row.application or row.delegated_self or row.any_token, (method, path)
        assert doc["paths"][path][method.lower()]["x-permissions"] == row.document()
    assert all(len(rows) == 2 for rows in TABLE.values())


def test_a_user_read_token_is_refused_by_every_operation(live, seed, staff):
    """The finding: a token whose scp is User.Read deleted the user's own methods and, for a role holder,
    listed the directory. Here the Global Administrator's User.Read token meets every operation."""
    tool = admin_tool(seed.tenant)
    weak = GraphClient(
        live.url, delegated_token(live.url, "contoso.test", tool, "admin@contoso.test", scope="openid User.Read")
    )
    for path, method in operations():
        if for_operation(path, method).any_token:
            continue  # $batch: each request inside is checked by its own row
        response = weak(method, concrete(path), json={} if method in ("POST", "PATCH") else None)
        error = assert_graph_error(response, 403, "Authorization_RequestDenied")
        assert "scp" in error["message"], (method, path)
    # User.Read reads one's own profile, and nothing else
    assert weak("GET", "/users/admin@contoso.test").status_code == 200


def test_a_user_read_token_cannot_delete_its_own_authenticator_app(live, seed):
    from idp.extensions import db
    from idp.methods.oath.models import OathMethod
    from .test_strengths import with_totp

    tool = admin_tool(seed.tenant)
    tokens = {
        scope: delegated_token(live.url, "contoso.test", tool, "alice@contoso.test", scope=scope)
        for scope in ("openid User.Read", "openid", "openid UserAuthenticationMethod.ReadWrite")
    }
    with_totp(seed.alice)  # after signing in: with it, sign-in would ask for MFA
    method_id = db.session.query(OathMethod).filter_by(user_id=seed.alice.id).one().id
    path = f"/users/alice@contoso.test/authentication/softwareOathMethods/{method_id}"
    for scope in ("openid User.Read", "openid"):
        assert_graph_error(GraphClient(live.url, tokens[scope])("DELETE", path), 403, "Authorization_RequestDenied")
    own = GraphClient(live.url, tokens["openid UserAuthenticationMethod.ReadWrite"])
    assert own("DELETE", path).status_code == 204


def test_app_only_tokens_need_the_row_s_application_permission(live, seed):
    nothing = GraphClient(live.url, app_token(live.url, "contoso.test", *app_client(seed.tenant, ["User.Invite.All"])))
    everything = sorted({p for path, method in operations() for p in for_operation(path, method).application})
    full = GraphClient(live.url, app_token(live.url, "contoso.test", *app_client(seed.tenant, everything)))
    for path, method in operations():
        body = {} if method in ("POST", "PATCH") else None
        if (
            "User.Invite.All" not in for_operation(path, method).application
            and not for_operation(path, method).any_token
            and not for_operation(path, method).application_self  # addKey: the handler lets an app roll its own
        ):
            assert_graph_error(nothing(method, concrete(path), json=body), 403, "Authorization_RequestDenied")
        response = full(method, concrete(path), json=body)
        if not for_operation(path, method).application and not for_operation(path, method).any_token:
            # delegated only in Graph (resetPassword): even every application permission is refused
            assert_graph_error(response, 403, "Authorization_RequestDenied")
            continue
        assert response.status_code != 403 and response.status_code < 500, (method, path, response.text[:300])


# --- L-6: bodies --------------------------------------------------------------------------------------


def full_admin(live, seed) -> GraphClient:
    """The Global Administrator with every delegated permission the table names."""
    from idp.extensions import db
    from idp.oidc.clients import create_client

    scopes = sorted({p for path, m in operations() for p in for_operation(path, m).delegated})
    client, secret = create_client(seed.tenant, "Everything", [REDIRECT], scopes=scopes)
    db.session.commit()
    return GraphClient(live.url, delegated_token(live.url, "contoso.test", (client.id, secret), "admin@contoso.test"))


def test_deeply_nested_json_on_every_graph_write_is_a_400(live, seed, staff):
    ga = full_admin(live, seed)
    with_body = {
        (path, method.upper())
        for path, method, spec in OPERATIONS
        if spec["body"] and spec["body"].get("type") == "object"
    }
    assert len(with_body) >= 15
    for path, method in operations():
        if method not in ("POST", "PATCH"):
            continue
        response = ga.http.request(
            method, f"{ga.base}/v1.0{concrete(path)}", data=NESTED, headers={"Content-Type": "application/json"}
        )
        if (path, method) in with_body:
            error = assert_graph_error(response, 400, "BadRequest")
            assert "nested more than" in error["message"], (method, path, error)
        else:  # an operation without a body never reads one
            assert response.status_code < 500, (method, path)


@pytest.mark.parametrize(
    "body,message",
    [
        ("{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ("[1, 2]", "must be a JSON object, not an array"),
        ('"text"', "must be a JSON object, not a string"),
        ('{"isUsableOnce": NaN}', "'NaN' is not valid JSON"),
        ('{"lifetimeInMinutes": 1' + "0" * 60 + "}", "too long"),
        ('{"lifetimeInMinutes": 99999999999999999}', "Invalid value for property 'lifetimeInMinutes'"),
        ('{"isUsableOnce": "yes"}', "Invalid value for property 'isUsableOnce'"),
        ('{"startDateTime": "9999-12-31T23:59:00Z"}', "'startDateTime' must be at most"),
    ],
)
def test_invalid_bodies_get_a_precise_message(graph_as, staff, body, message):
    ga = graph_as("ga")
    from .test_graph_policy_and_tap_api import enable_tap

    enable_tap(ga)
    response = ga.http.post(
        f"{ga.base}/v1.0/users/bob@contoso.test/authentication/temporaryAccessPassMethods",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    error = assert_graph_error(response, 400, "BadRequest")
    assert message in error["message"], error


def test_bodies_are_checked_against_the_schema_before_any_handler_runs(graph_as, staff):
    ga = graph_as("ga")
    wrong = ga(
        "POST",
        "/invitations",
        {
            "invitedUserEmailAddress": "x@partner.example",
            "inviteRedirectUrl": "https://app.example",
            "invitedUserDisplayName": {"a": 1},
        },
    )
    assert "'invitedUserDisplayName'" in assert_graph_error(wrong, 400, "BadRequest")["message"]
    devices = "/directory/authenticationMethodDevices/hardwareOathDevices"
    listed = ga(
        "POST",
        devices,
        {
            "serialNumber": "1",
            "secretKey": "JBSWY3DPEHPK3PXP",
            "timeIntervalInSeconds": 30,
            "hashFunction": ["hmacsha1"],
        },
        version="beta",
    )
    assert "'hashFunction'" in assert_graph_error(listed, 400, "BadRequest")["message"]
    huge = ga(
        "POST",
        devices,
        {"serialNumber": "1", "secretKey": "JBSWY3DPEHPK3PXP", "timeIntervalInSeconds": 10**30},
        version="beta",
    )
    assert_graph_error(huge, 400, "BadRequest")


# --- issue 15 item 26: Graph's error shape everywhere ------------------------------------------------------


def test_every_error_has_graph_s_shape_and_echoes_the_client_request_id(live, graph_as):
    ga = graph_as("ga")
    rid = "8b1f0e7c-3c1d-4f0e-9a55-6c2f3b7d9e11"
    headers = {"client-request-id": rid}
    assert_graph_error(ga("GET", "/no/such/path", headers=headers), 404, "Request_ResourceNotFound", rid)
    assert_graph_error(ga("PUT", "/users", headers=headers), 405, "MethodNotAllowed", rid)
    assert_graph_error(ga("GET", "/users/nobody@contoso.test", headers=headers), 404, "Request_ResourceNotFound", rid)
    assert_graph_error(requests.get(f"{live.url}/v1.0/users", headers=headers), 401, "InvalidAuthenticationToken", rid)
    assert_graph_error(
        requests.get(f"{live.url}/beta/nothing/here", headers=headers), 404, "Request_ResourceNotFound", rid
    )
    big = ga.http.post(
        f"{ga.base}/v1.0/invitations",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json", **headers},
    )
    assert_graph_error(big, 413, "RequestEntityTooLarge", rid)
    ok = ga("GET", "/users", headers=headers)
    assert ok.status_code == 200 and ok.headers["client-request-id"] == rid and ok.headers["request-id"]
    unechoed = ga("GET", "/no/such/path", headers={"client-request-id": "bad\tvalue"})
    assert assert_graph_error(unechoed, 404)["innerError"]["client-request-id"] != "bad\tvalue"
