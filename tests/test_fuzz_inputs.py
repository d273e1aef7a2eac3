"""The classes behind the input findings, made impossible: hostile values (deep nesting, huge numbers, control
characters, wrong types, non-ASCII digits) to every form and every Graph operation never give a 5xx, and every
route an anonymous caller can reach is listed in idp/surface.py. `make fuzz` raises IDP_FUZZ_EXAMPLES."""

import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.kit.graph import OPERATIONS
from idp.surface import UNAUTHENTICATED

from .support import PASSWORD

EXAMPLES = max(1, int(os.environ.get("IDP_FUZZ_EXAMPLES", "60")) // 15)  # each example walks every route
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "¹²³⁴⁵⁶",
            "١٢٣٤٥٦",
            "１２３４５６",
            "\x00",
            "\r\nSet-Cookie: x=1",
            "\u202e",
            "=cmd|' /C calc'!A0",
            "9999-12-31T23:59:00Z",
            "-1",
            "99999999999999999",
            "1e999",
            "NaN",
            "a" * 5000,
        ]
    ),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
NESTED = st.integers(min_value=30, max_value=3000).map(lambda n: "[" * n + "]" * n)
HOSTILE_TEXT = st.one_of(
    SCALARS.map(lambda v: v if isinstance(v, str) else json.dumps(v)), NESTED, JSON_VALUES.map(json.dumps)
)
FIELDS = [
    "username",
    "password",
    "otc",
    "tap",
    "credential",
    "display_name",
    "action",
    "stay",
    "remember_mfa",
    "reason",
    "upn",
    "serial",
    "code",
    "name",
    "state",
    "include",
    "exclude",
    "ranges",
    "skipMfaForTrustedIps",
    "mfaDenialsBeforeLockout",
    "lifetime",
    "start",
    "usable_once",
    "return_to",
    "next",
    "language",
    "displayName",
    "ipRanges",
    "isTrusted",
    "combination",
    "allowedAAGUIDs",
    "signInAudience",
    "web",
    "spa",
    "publicClient",
    "secretName",
    "secretDays",
    "confirm",
]
FORM = st.dictionaries(st.sampled_from(FIELDS), HOSTILE_TEXT, max_size=8)
PLACEHOLDERS = {
    "tenant": "contoso.test",
    "name": "password",
    "section": "accountLockout",
    "method_id": "x",
    "user_id": "alice@contoso.test",
    "filename": "style.css",
}


def _url(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: PLACEHOLDERS.get(m.group(1), "x"), rule.rule)


def _signed_in(client, upn="admin@contoso.test"):
    client.get("/contoso.test/login/")
    client.post("/contoso.test/login/", data={"username": upn})
    client.post("/contoso.test/login/method/password", data={"password": PASSWORD})
    client.post("/contoso.test/login/kmsi", data={"stay": "no"})


@FUZZ
@given(form=FORM, signed_in=st.booleans())
def test_every_form_of_every_page_survives_hostile_values(app, seed, form, signed_in):
    app.config["WTF_CSRF_ENABLED"] = False  # the forms' own handling is what is fuzzed here
    try:
        with app.test_client() as client:
            if signed_in:
                _signed_in(client)
            for rule in app.url_map.iter_rules():
                if "POST" not in rule.methods or rule.endpoint.startswith(("graph_", "static")):
                    continue
                response = client.post(_url(rule), data=form)
                assert response.status_code < 500, (rule.rule, form, response.get_data(as_text=True)[:300])
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def admin_token(live, seed, staff):
    from .test_graph_shell import full_admin

    return full_admin(live, seed).http.headers["Authorization"].split(" ", 1)[1]


def _graph_path(path: str) -> str:
    return re.sub(
        r"\{(\w+)\}",
        lambda m: {
            "user_ref": "bob@contoso.test",
            "minutes": "10",
            "section": "accountLockout",
            "config_id": "Fido2",
        }.get(m.group(1), "x"),
        path,
    )


@FUZZ
@given(
    body=st.one_of(
        JSON_VALUES.map(json.dumps),
        NESTED,
        st.dictionaries(
            st.sampled_from(
                [
                    "displayName",
                    "ipRanges",
                    "startDateTime",
                    "lifetimeInMinutes",
                    "isUsableOnce",
                    "state",
                    "includeTargets",
                    "serialNumber",
                    "secretKey",
                    "timeIntervalInSeconds",
                    "hashFunction",
                    "device",
                    "verificationCode",
                    "userIds",
                    "allowedCombinations",
                    "invitedUserEmailAddress",
                    "inviteRedirectUrl",
                    "reason",
                    "userPrincipalName",
                    "publicKeyCredential",
                    "ranges",
                    "mfaDenialsBeforeLockout",
                    "reportSuspiciousActivitySettings",
                ]
            ),
            JSON_VALUES,
            max_size=6,
        ).map(json.dumps),
    )
)
def test_every_graph_operation_survives_hostile_bodies(app, admin_token, body):
    headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    with app.test_client() as client:
        for path, method, _ in OPERATIONS:
            if method not in ("post", "patch") or path.endswith("/import"):
                continue
            response = client.open(f"/beta{_graph_path(path)}", method=method.upper(), data=body, headers=headers)
            assert response.status_code < 500, (method, path, body[:200], response.get_data(as_text=True)[:300])
            if response.status_code >= 400:
                assert set(response.get_json()["error"]) >= {"code", "message", "innerError"}


def _refuses_anonymous(response) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code in (401, 403) or (
        response.status_code in (302, 303)
        and "/login/" in location
        and "return_to" not in location
        and response.request.path not in location
    )


def test_the_unauthenticated_surface_is_listed(app, seed):
    """Every route is requested with no session, cookie or token; whatever answers must be in idp/surface.py."""
    app.config["WTF_CSRF_ENABLED"] = False
    reachable = set()
    try:
        for rule in app.url_map.iter_rules():
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                with app.test_client() as client:
                    response = client.open(_url(rule), method=method, data={"x": "1"} if method != "GET" else None)
                if response.status_code < 500 and not _refuses_anonymous(response) and response.status_code != 404:
                    reachable.add(rule.endpoint)
                assert response.status_code < 500, (method, rule.rule)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    unlisted = reachable - set(UNAUTHENTICATED)
    assert not unlisted, f"reachable without a session but not listed in idp/surface.py: {sorted(unlisted)}"
    assert set(UNAUTHENTICATED) <= {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not {e for e in reachable if e.startswith(("graph_v1.", "graph_beta.", "console.", "securityinfo."))}
