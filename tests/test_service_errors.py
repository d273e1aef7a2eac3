"""One ServiceError, mapped once: every service's refusal derives from it, no view converts one by hand, the Graph
shell answers it in Graph's shape and the pages on the error page, in the reader's language."""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

from sqlalchemy import select

import idp
from idp.errors import ServiceError
from idp.extensions import db
from idp.methods.tap.models import TemporaryAccessPass
from idp.oidc.clients import create_client

from .graph_fixtures import graph_as, staff  # noqa: F401  (fixtures)
from .support import DIRECTORY_SCOPES, REDIRECT, GraphClient, delegated_sign_in, enable_method
from .test_console_pages import admin_agent

#: failures of the machinery, not refusals of a request: they are never answered as a caller's mistake
NOT_REFUSALS = {
    "TelephonyError",  # the provider did not take the call (logged; the method layer decides what to say)
    "MailError",  # the SMTP server did not take the message
    "CeremonyError",  # a WebAuthn response that did not verify: for the log, never shown verbatim
    "MetadataError",  # a FIDO MDS BLOB refused at import (CLI)
    "SimulatorError",  # the developer authenticator simulator's own input
    "ScopeError",  # answered in OAuth's dialect (invalid_scope) by the token endpoint
    "RangeError",  # the input loader's numeric check, re-raised with the property's name
    "AuthorizationDeclinedError",  # an OAuth error of Authlib's
}


def _idp_exception_classes():
    for module in pkgutil.walk_packages(idp.__path__, "idp."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == module.name:
                yield name, value


def test_every_refusal_of_a_service_is_a_service_error(app):
    refusals = {name: cls for name, cls in _idp_exception_classes() if name not in NOT_REFUSALS}
    assert {"DirectoryError", "TapError", "OathError", "PhoneError", "MethodAccessError", "GraphError"} <= set(refusals)
    assert [name for name, cls in refusals.items() if not issubclass(cls, ServiceError)] == []


#: exceptions of Python, Werkzeug and the libraries: views may translate those
_NOT_SERVICE_ERRORS = {"ValueError", "KeyError", "TypeError", "Exception", "HTTPException", "OAuth2Error"}
_CONVERTERS = {"GraphError", "bad_request", "forbidden", "not_found", "conflict", "denied", "abort", "directory_error"}


def _hand_conversions(path: Path):
    """`except SomeError as e: raise GraphError(..e..)` / `abort(e.status, ...)`: a refusal mapped by hand."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ExceptHandler) or node.name is None:
            continue
        caught = ast.unparse(node.type) if node.type else ""
        if not caught or caught.split(".")[-1] in _NOT_SERVICE_ERRORS:
            continue
        for statement in node.body:
            call = statement.exc if isinstance(statement, ast.Raise) else getattr(statement, "value", None)
            if isinstance(call, ast.Call):
                callee = ast.unparse(call.func).split(".")[-1]
                uses_error = any(isinstance(n, ast.Name) and n.id == node.name for n in ast.walk(call))
                if callee in _CONVERTERS and uses_error:
                    yield f"{path.relative_to(Path(idp.__file__).parent.parent)}:{node.lineno} {caught}"


def test_no_view_maps_a_service_error_by_hand():
    package = Path(idp.__file__).parent
    found = [hit for path in sorted(package.rglob("*.py")) for hit in _hand_conversions(path)]
    assert found == []


def test_graph_answers_refusals_in_its_shape(live, seed, graph_as):  # noqa: F811
    client, secret = create_client(seed.tenant, "Directory tool", [REDIRECT], scopes=DIRECTORY_SCOPES)
    db.session.commit()
    token = delegated_sign_in(live.url, "contoso.test", (client.id, secret), "admin@contoso.test")[0]
    clash = GraphClient(live.url, token["access_token"])(
        "POST",
        "/users",
        {
            "accountEnabled": True,
            "displayName": "Alice again",
            "mailNickname": "alice2",
            "userPrincipalName": seed.alice.upn,
            "passwordProfile": {"password": "Another-Passw0rd!"},
        },
    )
    error = clash.json()["error"]
    assert clash.status_code == 400 and error["code"] == "Request_BadRequest"  # the directory's own code
    assert error["details"] == [{"code": "ObjectConflict", "message": error["message"], "target": "userPrincipalName"}]
    assert error["innerError"]["request-id"]

    # a refusal of the authentication-methods rules: 403 in that API's spelling, on every method's endpoint
    bob = graph_as("bob")
    for path in (
        "/authentication/methods",
        "/authentication/temporaryAccessPassMethods",
        "/authentication/phoneMethods",
    ):
        denied = bob("GET", f"/users/{seed.alice.id}{path}")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "accessDenied", path

    phones = f"/users/{seed.alice.id}/authentication/phoneMethods"
    pager = graph_as("ga")("POST", phones, {"phoneType": "pager", "phoneNumber": "+1 5555551234"})
    assert pager.status_code == 400 and pager.json()["error"]["code"] == "badRequest"  # PhoneError's spelling


def test_pages_show_a_refusal_with_its_title_status_and_language(live, seed):
    enable_method(seed.tenant.id, "TemporaryAccessPass")
    for lang, title in (("en", "Temporary Access Pass not created"), ("ja", "一時アクセス パスは作成されませんでした")):
        agent = admin_agent(live, lang=lang, path=f"/contoso.test/admin/users/{seed.alice.id}")
        refused = agent.submit("/tap", lifetime="5")  # below the policy's 60-minute minimum
        assert refused.status_code == 400
        assert f"<h1>{title}</h1>" in refused.text and "<code>400</code>" in refused.text
    assert db.session.scalar(select(db.func.count()).select_from(TemporaryAccessPass)) == 0


def test_a_refusal_no_view_catches_gets_the_error_page(live, seed, staff):  # noqa: F811
    """An Authentication Administrator may not revoke a Global Administrator's MFA sessions: the rule's refusal
    reaches the page handler with its own status and a heading in the reader's language."""
    agent = admin_agent(live, upn="aa@contoso.test", password="pw-aa-1234", lang="ja")
    agent.go(f"/contoso.test/admin/users/{seed.admin.id}")
    csrf = agent.page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = agent.go(f"/contoso.test/admin/users/{seed.admin.id}/revoke-mfa-sessions", "post", {"csrf_token": csrf})
    assert refused.status_code == 403
    assert "<h1>この操作は実行できません</h1>" in refused.text
