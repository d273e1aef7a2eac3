"""schemathesis against the OpenAPI document of the admin API, as an administrator and as a low-privilege
user: no 5xx, and every response as documented (status, content type, schema), for valid requests and for
schemathesis's boundary and wrong-type variants of every property.

`make test` runs a fixed, small number of cases per operation (IDP_SCHEMA_EXAMPLES, default 4) in the SQLite
pass only (the API contract does not depend on the database); `make fuzz` runs many more. One server and one
database serve every operation (a fresh database per operation would cost more than the cases)."""

import os
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from idp import create_app
from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.graph.openapi import document

from .conftest import LiveServer, _config
from .support import Seed, admin_tool, delegated_token

EXAMPLES = int(os.environ.get("IDP_SCHEMA_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def api(template_db, tmp_path_factory):
    """A live server on its own database, an administrator's token and a plain user's token."""
    work = tmp_path_factory.mktemp("schemathesis")
    shutil.copy(template_db, work / "idp.db")
    app = create_app(_config(work, f"sqlite:///{work / 'idp.db'}"))
    with app.app_context():
        seed = Seed.create(app)
        directory.create_user(seed.tenant, "aa@contoso.test", "AA", "pw-aa-1234", [Roles.AUTH_ADMIN])
        db.session.commit()
        server = LiveServer(app)
        tool = admin_tool(seed.tenant)
        tokens = {
            "admin": delegated_token(server.url, "contoso.test", tool, "admin@contoso.test"),
            "low": delegated_token(server.url, "contoso.test", tool, "alice@contoso.test"),
        }
        yield server, tokens
        server.stop()
        db.session.remove()
        db.engine.dispose()


def _schema():
    """The document the app serves (operations register as the app's modules are imported)."""
    create_app(_config(__import__("pathlib").Path("/tmp"), "sqlite://"))
    return schemathesis.openapi.from_dict(document())


schema = _schema()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_admin_api_never_fails_and_answers_as_documented(case, api):
    server, tokens = api
    for who in ("admin", "low"):
        response = case.call(base_url=f"{server.url}/v1.0", headers={"Authorization": f"Bearer {tokens[who]}"})
        case.validate_response(response, checks=CHECKS)


#: the directory's writes, and the key and password operations: each must be in the fuzzed document, with a
#: body schema for its writes (schemathesis derives its wrong-type and boundary variants from it)
DIRECTORY_WRITES = [
    ("POST", "/users", True),
    ("PATCH", "/users/{user_ref}", True),
    ("DELETE", "/users/{user_ref}", False),
    ("POST", "/groups", True),
    ("PATCH", "/groups/{group_id}", True),
    ("DELETE", "/groups/{group_id}", False),
    ("POST", "/groups/{group_id}/members/$ref", True),
    ("POST", "/applications", True),
    ("PATCH", "/applications/{app_object_id}", True),
    ("DELETE", "/applications/{app_object_id}", False),
    ("POST", "/applications/{app_object_id}/addPassword", True),
    ("POST", "/applications/{app_object_id}/addKey", True),
    ("POST", "/applications/{app_object_id}/removeKey", True),
    ("POST", "/servicePrincipals", True),
    ("DELETE", "/servicePrincipals/{sp_id}", False),
    ("POST", "/servicePrincipals/{sp_id}/appRoleAssignments", True),
    ("POST", "/users/{user_ref}/authentication/methods/{method_id}/resetPassword", True),
    ("POST", "/users/{user_ref}/authentication/passwordMethods/{method_id}/resetPassword", True),
]


def test_the_directory_writes_are_in_the_fuzzed_document_with_their_bodies():
    paths = document()["paths"]
    for method, path, has_body in DIRECTORY_WRITES:
        assert path in paths and method.lower() in paths[path], (method, path)
        body = paths[path][method.lower()].get("requestBody")
        if has_body:
            schema_of = body["content"]["application/json"]["schema"]
            assert schema_of["type"] == "object" and schema_of.get("properties"), (method, path)
