"""Explicit wiring: importing a module registers nothing; idp.wiring alone composes the system."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.once

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, idp
for info in pkgutil.walk_packages(idp.__path__, "idp."):
    if info.name != "idp.wiring":
        importlib.import_module(info.name)
from idp import console, securityinfo
from idp.methods import registry
from idp.oidc import claims
from idp.policy import service as policy
from idp.signin import hooks as flow, sessions
from idp import telephony
print(json.dumps({
    "methods": [m.name for m in registry.all_methods()],
    "policies": [t.method_id for t in policy.all_types()],
    "panels": len(securityinfo.panels) + len(securityinfo.add_actions) + len(console.user_panels) + len(console.user_sections),
    "hooks": sum(map(len, (sessions.registration_windows, flow.signin_guards, flow.mfa_guards, flow.mfa_denial_hooks, flow.mfa_success_hooks,
                           flow.mfa_abandon_hooks, flow.availability_rules, claims.refresh_rules,
                           flow.fraud_reporters, flow.fraud_reporting_rules, telephony._handlers,
                           sessions.sessions_revoked_hooks, sessions.user_revoked_hooks))),
    "foreign_rules": [rule.__module__ for _, rule in flow._mfa_rules if rule.__module__ != "idp.signin.flow"],
}))
"""


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_importing_every_module_registers_nothing():
    found = json.loads(_run(IMPORT_EVERYTHING))
    assert found == {"methods": [], "policies": [], "panels": 0, "hooks": 0, "foreign_rules": []}


def test_wiring_registers_every_slice(app):
    from idp import console, securityinfo, wiring
    from idp.methods import registry
    from idp.policy import service as policy

    declared = {method.name for piece in wiring.SLICES for method in piece.methods}
    assert {method.name for method in registry.all_methods()} == declared
    assert {"password", "tap", "oath", "passkey", "email_otp", "sms", "voice"} <= declared
    assert {t.method_id for t in policy.all_types()} == {t.method_id for piece in wiring.SLICES for t in piece.policies}
    assert len(securityinfo.panels) == sum(len(piece.security_info) for piece in wiring.SLICES)
    assert len(console.user_panels) == sum(len(piece.console_panels) for piece in wiring.SLICES)


def test_second_app_does_not_register_twice(app):
    from idp import create_app, securityinfo
    from idp.signin import hooks as flow

    before = (len(securityinfo.panels), len(flow.mfa_guards), len(flow._mfa_rules))
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32})
    assert (len(securityinfo.panels), len(flow.mfa_guards), len(flow._mfa_rules)) == before


@pytest.mark.parametrize("leaf, limit", [("idp.methods.oath.totp", 9), ("idp.clock", 5), ("idp.crypto", 4)])
def test_leaf_module_drags_in_little(leaf, limit):
    """A pure module imports its few dependencies, not the console or the flow (it used to load 41 modules)."""
    code = f"import sys, json, {leaf}; print(json.dumps(sorted(m for m in sys.modules if m.startswith('idp'))))"
    loaded = json.loads(_run(code))
    assert "idp.console" not in loaded and "idp.signin.flow" not in loaded
    assert len(loaded) <= limit, loaded
