"""The Graph-shaped admin API: authentication methods policy, TAP methods, Entra's roles, errors, audit,
and the OpenAPI document."""

import pytest
import requests
from sqlalchemy import select

from idp.audit.models import AuditLog
from idp.directory import service as directory
from idp.extensions import db
from idp.kit.graph import OPERATIONS

from .support import GraphClient, admin_tool, app_client, app_token, delegated_token

TAP_CONFIG = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"


def enable_tap(graph, **settings):
    body = {
        "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
        "state": "enabled",
        "includeTargets": [{"id": "all_users", "targetType": "group", "isRegistrationRequired": False}],
        **settings,
    }
    response = graph("PATCH", TAP_CONFIG, body)
    assert response.status_code == 204, response.text
    return response


def test_policy_defaults_and_round_trip(graph_as):
    ga = graph_as("ga")
    policy = ga("GET", "/policies/authenticationMethodsPolicy").json()
    tap = next(c for c in policy["authenticationMethodConfigurations"] if c["id"] == "TemporaryAccessPass")
    assert tap["state"] == "disabled"
    assert (
        tap["minimumLifetimeInMinutes"],
        tap["maximumLifetimeInMinutes"],
        tap["defaultLifetimeInMinutes"],
        tap["isUsableOnce"],
        tap["defaultLength"],
    ) == (60, 480, 60, False, 8)
    enable_tap(ga, defaultLength=12, maximumLifetimeInMinutes=43200)
    for version in ("v1.0", "beta"):
        got = GraphClient(ga.base, ga.http.headers["Authorization"][7:], version)("GET", TAP_CONFIG).json()
        assert got["state"] == "enabled" and got["defaultLength"] == 12 and got["maximumLifetimeInMinutes"] == 43200
        assert got["includeTargets"][0]["id"] == "all_users"
        assert got["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration"


@pytest.mark.parametrize(
    "prop,value,ok",
    [
        ("minimumLifetimeInMinutes", 9, False),
        ("minimumLifetimeInMinutes", 10, True),
        ("maximumLifetimeInMinutes", 43200, True),
        ("maximumLifetimeInMinutes", 43201, False),
        ("defaultLength", 7, False),
        ("defaultLength", 8, True),
        ("defaultLength", 48, True),
        ("defaultLength", 49, False),
        ("defaultLifetimeInMinutes", 9, False),
        ("defaultLifetimeInMinutes", 500, False),
        ("isUsableOnce", "yes", False),
        ("defaultLength", True, False),
        ("bogus", 1, False),
        ("state", "on", False),
    ],
)
def test_policy_bounds(graph_as, prop, value, ok):
    ga = graph_as("ga")
    response = ga("PATCH", TAP_CONFIG, {prop: value})
    if ok:
        assert response.status_code == 204, response.text
    else:
        assert response.status_code == 400
        assert f"'{prop}'" in response.json()["error"]["message"]
        assert response.json()["error"]["code"] == "BadRequest"


def test_inconsistent_min_max(graph_as):
    response = graph_as("ga")("PATCH", TAP_CONFIG, {"minimumLifetimeInMinutes": 500})
    assert response.status_code == 400 and "minimumLifetimeInMinutes" in response.json()["error"]["message"]
    # nothing was saved
    assert graph_as("ga")("GET", TAP_CONFIG).json()["minimumLifetimeInMinutes"] == 60


def test_only_policy_admins_change_the_policy(graph_as, seed):
    for who, status in (("apa", 204), ("ga", 204), ("paa", 403), ("aa", 403), ("gr", 403), ("bob", 403)):
        assert graph_as(who)("PATCH", TAP_CONFIG, {"defaultLength": 10}).status_code == status, who
    assert graph_as("gr")("GET", TAP_CONFIG).status_code == 200
    assert graph_as("bob")("GET", TAP_CONFIG).status_code == 403


def test_policy_targets_validate_groups(graph_as, seed):
    ga = graph_as("ga")
    bad = ga("PATCH", TAP_CONFIG, {"includeTargets": [{"id": "no-such-group", "targetType": "group"}]})
    assert bad.status_code == 400 and "does not exist" in bad.json()["error"]["message"]
    group = directory.create_group(seed.tenant, "Pilot")
    db.session.commit()
    assert ga("PATCH", TAP_CONFIG, {"includeTargets": [{"id": group.id, "targetType": "group"}]}).status_code == 204


def test_app_permissions_on_the_policy(live, seed):
    reader = GraphClient(live.url, app_token(live.url, "contoso.test", *app_client(seed.tenant, ["Policy.Read.All"])))
    writer = GraphClient(
        live.url,
        app_token(live.url, "contoso.test", *app_client(seed.tenant, ["Policy.ReadWrite.AuthenticationMethod"])),
    )
    assert reader("GET", TAP_CONFIG).status_code == 200
    assert reader("PATCH", TAP_CONFIG, {"state": "enabled"}).status_code == 403
    assert writer("PATCH", TAP_CONFIG, {"state": "enabled"}).status_code == 204


EXPECTED = {  # actor -> target -> (create, read, delete)
    "paa": {"bob": "yyy", "carol": "yyy", "self": "nyn"},
    "ga": {"bob": "yyy", "carol": "yyy", "self": "nyn"},
    "aa": {"bob": "yyy", "carol": "nnn", "self": "nyn"},
    "gr": {"bob": "nyn", "carol": "nyn", "self": "nyn"},
    "apa": {"bob": "nnn", "carol": "nnn", "self": "nyn"},
    "bob": {"carol": "nnn", "self": "nyn"},
}


def test_tap_roles_by_target(graph_as, seed, staff):
    enable_tap(graph_as("ga"))
    actual = {}
    for actor, targets in EXPECTED.items():
        graph = graph_as(actor)
        actual[actor] = {}
        for target in targets:
            upn = (("admin" if actor == "ga" else actor) if target == "self" else target) + "@contoso.test"
            base = f"/users/{upn}/authentication/temporaryAccessPassMethods"
            created = graph("POST", base, {})
            if created.status_code != 201:  # arrange a pass to read and delete
                ok = graph_as("paa" if target != "self" or actor != "paa" else "ga")("POST", base, {})
                method_id = ok.json()["id"]
            else:
                method_id = created.json()["id"]
            read = graph("GET", f"{base}/{method_id}")
            deleted = graph("DELETE", f"{base}/{method_id}")
            actual[actor][target] = "".join(
                "y" if r.status_code in (200, 201, 204) else "n" for r in (created, read, deleted)
            )
            for r in (created, read, deleted):
                assert r.status_code in (200, 201, 204, 403), r.text
    assert actual == EXPECTED


def test_create_returns_code_once_and_never_again(graph_as, staff):
    ga = graph_as("ga")
    enable_tap(ga)
    created = ga(
        "POST",
        "/users/bob@contoso.test/authentication/temporaryAccessPassMethods",
        {"lifetimeInMinutes": 120, "isUsableOnce": True},
    )
    assert created.status_code == 201
    body = created.json()
    assert len(body["temporaryAccessPass"]) == 8 and body["lifetimeInMinutes"] == 120 and body["isUsableOnce"] is True
    assert body["isUsable"] is True and body["methodUsabilityReason"] == "EnabledByPolicy"
    assert body["@odata.context"].endswith("/authentication/temporaryAccessPassMethods/$entity")
    listed = ga("GET", f"/users/{staff['bob'].id}/authentication/temporaryAccessPassMethods").json()["value"]
    assert len(listed) == 1 and "temporaryAccessPass" not in listed[0]
    got = ga("GET", f"/users/{staff['bob'].id}/authentication/temporaryAccessPassMethods/{body['id']}").json()
    assert "temporaryAccessPass" not in got
    from idp.methods.tap.models import TemporaryAccessPass

    stored = db.session.get(TemporaryAccessPass, body["id"])
    assert body["temporaryAccessPass"] not in stored.code_hash and "$" in stored.code_hash


def test_creating_replaces_the_existing_pass(graph_as):
    ga = graph_as("ga")
    enable_tap(ga)
    base = "/users/bob@contoso.test/authentication/temporaryAccessPassMethods"
    first = ga("POST", base, {}).json()
    second = ga("POST", base, {}).json()
    listed = ga("GET", base).json()["value"]
    assert [m["id"] for m in listed] == [second["id"]] and first["id"] != second["id"]
    assert ga("GET", f"{base}/{first['id']}").status_code == 404


@pytest.mark.parametrize(
    "body,fragment",
    [
        ({"lifetimeInMinutes": 59}, "lifetimeInMinutes"),
        ({"lifetimeInMinutes": 481}, "lifetimeInMinutes"),
        ({"lifetimeInMinutes": "60"}, "lifetimeInMinutes"),
        ({"startDateTime": "tomorrow"}, "startDateTime"),
        ({"startDateTime": "2001-01-01T00:00:00Z"}, "past"),
        ({"isUsableOnce": "true"}, "isUsableOnce"),
        ({"temporaryAccessPass": "mine"}, "temporaryAccessPass"),
    ],
)
def test_create_validation(graph_as, body, fragment):
    ga = graph_as("ga")
    response = ga("POST", "/users/bob@contoso.test/authentication/temporaryAccessPassMethods", body)
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]


def test_lifetime_bounds_follow_the_policy(graph_as):
    ga = graph_as("ga")
    enable_tap(ga, minimumLifetimeInMinutes=10, maximumLifetimeInMinutes=43200)
    base = "/users/bob@contoso.test/authentication/temporaryAccessPassMethods"
    assert ga("POST", base, {"lifetimeInMinutes": 10}).status_code == 201
    assert ga("POST", base, {"lifetimeInMinutes": 43200}).status_code == 201
    assert ga("POST", base, {"lifetimeInMinutes": 9}).status_code == 400
    assert ga("POST", base, {"lifetimeInMinutes": 43201}).status_code == 400


def test_policy_one_time_forces_one_time_passes(graph_as):
    ga = graph_as("ga")
    enable_tap(ga, isUsableOnce=True)
    base = "/users/bob@contoso.test/authentication/temporaryAccessPassMethods"
    assert ga("POST", base, {}).json()["isUsableOnce"] is True
    refused = ga("POST", base, {"isUsableOnce": False})
    assert refused.status_code == 400 and "one-time" in refused.json()["error"]["message"]


def test_external_guest_cannot_get_a_pass_but_internal_guest_can(graph_as, seed):
    directory.create_user(seed.tenant, "ext@contoso.test", "External", None, guest="external")
    directory.create_user(seed.tenant, "int@contoso.test", "Internal", "pw-int-1234", guest="internal")
    db.session.commit()
    ga = graph_as("ga")
    refused = ga("POST", "/users/ext@contoso.test/authentication/temporaryAccessPassMethods", {})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Temporary Access Pass cannot be added to an external guest user."
    assert ga("POST", "/users/int@contoso.test/authentication/temporaryAccessPassMethods", {}).status_code == 201


def test_disabled_policy_marks_passes_unusable(graph_as):
    ga = graph_as("ga")
    body = ga("POST", "/users/bob@contoso.test/authentication/temporaryAccessPassMethods", {}).json()
    assert body["isUsable"] is False and body["methodUsabilityReason"] == "DisabledByPolicy"


def test_app_permissions_for_passes(live, seed, staff):
    reader = GraphClient(
        live.url, app_token(live.url, "contoso.test", *app_client(seed.tenant, ["UserAuthenticationMethod.Read.All"]))
    )
    writer = GraphClient(
        live.url,
        app_token(live.url, "contoso.test", *app_client(seed.tenant, ["UserAuthenticationMethod.ReadWrite.All"])),
    )
    base = "/users/carol@contoso.test/authentication/temporaryAccessPassMethods"
    assert reader("POST", base, {}).status_code == 403
    created = writer("POST", base, {})
    assert created.status_code == 201
    assert reader("GET", f"{base}/{created.json()['id']}").status_code == 200
    assert reader("DELETE", f"{base}/{created.json()['id']}").status_code == 403
    assert writer("DELETE", f"{base}/{created.json()['id']}").status_code == 204


def test_delegated_token_without_graph_permission_is_refused(live, seed, staff):
    tool = admin_tool(seed.tenant)
    token = delegated_token(live.url, "contoso.test", tool, "admin@contoso.test", scope="openid")
    graph = GraphClient(live.url, token)
    assert graph("GET", "/users/bob@contoso.test/authentication/temporaryAccessPassMethods").status_code == 403


def test_changes_are_audited(graph_as, staff):
    ga = graph_as("ga")
    enable_tap(ga)
    created = ga("POST", "/users/bob@contoso.test/authentication/temporaryAccessPassMethods", {}).json()
    ga("DELETE", f"/users/bob@contoso.test/authentication/temporaryAccessPassMethods/{created['id']}")
    db.session.expire_all()
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.created_at)).all()
    activities = [r.activity for r in rows]
    assert activities == [
        "Update authentication methods policy",
        "Admin registered temporary access pass method for user",
        "Admin deleted temporary access pass method for user",
    ]
    policy_row = rows[0]
    assert policy_row.before["state"] == "disabled" and policy_row.after["state"] == "enabled"
    assert rows[1].target_id == staff["bob"].id and rows[1].actor_type == "user"
    assert "temporaryAccessPass" not in rows[1].after  # the code is never written anywhere


@pytest.mark.parametrize(
    "headers,status,code",
    [
        ({}, 401, "InvalidAuthenticationToken"),
        ({"Authorization": "Bearer nonsense"}, 401, "InvalidAuthenticationToken"),
        ({"Authorization": "Basic abc"}, 401, "InvalidAuthenticationToken"),
    ],
)
def test_unauthenticated_requests(live, seed, headers, status, code):
    response = requests.get(f"{live.url}/v1.0/policies/authenticationMethodsPolicy", headers=headers)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_not_found_and_bad_bodies(graph_as):
    ga = graph_as("ga")
    assert ga("GET", "/users/nobody@contoso.test/authentication/temporaryAccessPassMethods").status_code == 404
    assert ga("GET", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Nope").status_code == 404
    raw = ga.http.patch(f"{ga.base}/v1.0{TAP_CONFIG}", data="{not json", headers={"Content-Type": "application/json"})
    assert raw.status_code == 400 and raw.json()["error"]["code"] == "BadRequest"
    listing = ga.http.patch(f"{ga.base}/v1.0{TAP_CONFIG}", json=[1, 2])
    assert listing.status_code == 400
    assert ga("GET", "/no/such/path").status_code == 404
    assert ga("GET", "/no/such/path").json()["error"]["code"]


def test_users_of_other_tenants_are_invisible(graph_as, seed):
    other = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    directory.create_user(other, "eve@fabrikam.test", "Eve", "pw-eve-1234")
    db.session.commit()
    ga = graph_as("ga")
    assert ga("POST", "/users/eve@fabrikam.test/authentication/temporaryAccessPassMethods", {}).status_code == 404


def test_openapi_document_lists_every_route(app, live):
    doc = requests.get(f"{live.url}/graph/openapi.json").json()
    documented = {(path, method) for path, methods in doc["paths"].items() for method in methods}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("graph_v1."):
            path = rule.rule.removeprefix("/v1.0").replace("<", "{").replace(">", "}")
            routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert {(p, m) for p, m, _ in OPERATIONS} == routed
