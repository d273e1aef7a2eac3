"""schemathesis against the served OpenAPI document of the admin API, as an administrator and as a
low-privilege user: no 5xx, and every response as documented (status, content type, schema).

`make test` runs a fixed, small number of cases per operation (IDP_SCHEMA_EXAMPLES, default 4);
`make fuzz` runs many more."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)
from schemathesis.checks import not_a_server_error

from idp.graph.openapi import document

from .support import admin_tool, delegated_token

EXAMPLES = int(os.environ.get("IDP_SCHEMA_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def admin_api(app, live, seed, staff):
    return live, {
        "admin": delegated_token(live.url, "contoso.test", admin_tool(seed.tenant), "admin@contoso.test"),
        "low": delegated_token(live.url, "contoso.test", admin_tool(seed.tenant), "bob@contoso.test", "pw-bob-123"),
    }


@pytest.fixture
def api_schema(app, admin_api):
    return schemathesis.openapi.from_dict(document())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck), database=None)
def test_admin_api_never_fails_and_answers_as_documented(case, admin_api):
    live, tokens = admin_api
    for who in ("admin", "low"):
        response = case.call(base_url=f"{live.url}/v1.0", headers={"Authorization": f"Bearer {tokens[who]}"})
        case.validate_response(response, checks=CHECKS)
