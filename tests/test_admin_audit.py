"""The one audit helper for changes: the actor comes from the context, never from the calling module."""

from types import SimpleNamespace

import pytest
from flask import g
from sqlalchemy import select

from idp.audit import record_admin_change
from idp.audit.models import AuditLog
from idp.extensions import db
from idp.kit.graph import Caller


def entry_of(activity: str) -> AuditLog:
    db.session.flush()
    return db.session.scalars(select(AuditLog).where(AuditLog.activity == activity)).one()


def test_outside_a_request_the_command_line_is_the_actor(app, seed):
    record_admin_change("Rotate signing keys", "signingKey", None, after={"kids": ["k1"]})
    entry = entry_of("Rotate signing keys")
    assert (entry.actor_id, entry.actor_type, entry.tenant_id) == (None, "cli", None)
    assert entry.after == {"kids": ["k1"]} and entry.activity == "Rotate signing keys"


def test_the_graph_or_console_caller_is_the_actor_and_names_the_tenant(app, seed):
    with app.test_request_context("/v1.0/users"):
        g.caller = Caller(seed.tenant, seed.app_client_id)
        record_admin_change("Add user", "user", seed.alice.id)
        entry = entry_of("Add user")
        assert (entry.actor_id, entry.actor_type, entry.tenant_id) == (seed.app_client_id, "app", seed.tenant.id)
        g.caller = Caller(seed.tenant, "console", user=seed.admin)
        record_admin_change("Delete user", "user", seed.alice.id, before={"a": 1}, tenant_id="other")
        entry = entry_of("Delete user")
        assert (entry.actor_id, entry.actor_type, entry.tenant_id) == (seed.admin.id, "user", "other")
        assert entry.before == {"a": 1}


def test_a_self_service_page_records_the_signed_in_user(app, seed):
    with app.test_request_context("/contoso.test/mysecurityinfo/"):
        g.tenant, g.sso = seed.tenant, SimpleNamespace(user=seed.alice)
        record_admin_change("User deleted phone", "user", seed.alice.id)
        entry = entry_of("User deleted phone")
        assert (entry.actor_id, entry.actor_type, entry.tenant_id) == (seed.alice.id, "user", seed.tenant.id)


def test_a_request_without_a_signed_in_actor_is_refused(app, seed):
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        record_admin_change("Anything", "user", seed.alice.id)
