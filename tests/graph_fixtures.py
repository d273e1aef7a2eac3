"""Fixtures for admin API tests: staff in each of Entra's roles, and a Graph client signed in as any of them."""

import pytest

from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db

from .support import PASSWORD, GraphClient, admin_tool, delegated_token


@pytest.fixture
def staff(app, seed):
    """Admins in each role, plus targets: a member (bob) and an admin (carol)."""
    t = seed.tenant
    people = {
        "paa": directory.create_user(t, "paa@contoso.test", "PAA", "pw-paa-123", [Roles.PRIVILEGED_AUTH_ADMIN]),
        "aa": directory.create_user(t, "aa@contoso.test", "AA", "pw-aa-1234", [Roles.AUTH_ADMIN]),
        "gr": directory.create_user(t, "gr@contoso.test", "GR", "pw-gr-1234", [Roles.GLOBAL_READER]),
        "apa": directory.create_user(t, "apa@contoso.test", "APA", "pw-apa-123", [Roles.AUTH_POLICY_ADMIN]),
        "bob": directory.create_user(t, "bob@contoso.test", "Bob", "pw-bob-123"),
        "carol": directory.create_user(t, "carol@contoso.test", "Carol", "pw-carol-12", [Roles.AUTH_ADMIN]),
    }
    db.session.commit()
    return people


PASSWORDS = {
    "paa": "pw-paa-123",
    "aa": "pw-aa-1234",
    "gr": "pw-gr-1234",
    "apa": "pw-apa-123",
    "bob": "pw-bob-123",
    "carol": "pw-carol-12",
}


@pytest.fixture
def graph_as(live, seed, staff):
    tool = admin_tool(seed.tenant)
    cache = {}

    def make(who: str) -> GraphClient:
        if who not in cache:
            upn = "admin@contoso.test" if who == "ga" else f"{who}@contoso.test"
            cache[who] = GraphClient(
                live.url, delegated_token(live.url, "contoso.test", tool, upn, PASSWORDS.get(who, PASSWORD))
            )
        return cache[who]

    return make
