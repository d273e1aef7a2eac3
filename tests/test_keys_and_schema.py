"""Signing keys (database, JWKS, rotation), the migrations matching the models, and the CLI."""

import json
from datetime import timedelta

import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp import clock
from idp.audit.models import AuditLog
from idp.extensions import db
from idp.oidc.models import SigningKey


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_migrations_produce_the_models_schema(app):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_private_keys_are_sealed_at_rest(app, seed):
    for row in db.session.scalars(select(SigningKey)):
        assert row.private_jwk.startswith("v1.") and '"d"' not in row.private_jwk
        assert "d" not in row.public_jwk and row.public_jwk["kid"] == row.kid


def client_credentials(live, seed):
    response = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "client_credentials"},
        auth=(seed.app_client_id, seed.app_client_secret),
    )
    return response.json()["access_token"]


def jwks(live):
    return requests.get(f"{live.url}/contoso.test/discovery/v2.0/keys").json()


def test_rotation_adds_a_key_and_keeps_old_ones_published_until_their_tokens_expire(app, live, seed):
    old_token = client_credentials(live, seed)
    old_kid = jwt.decode(old_token, KeySet.import_key_set(jwks(live))).header["kid"]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["idp", "rotate-keys", "--json"])
    assert result.exit_code == 0, result.output
    new_kids = {k["kid"] for k in json.loads(result.output)["active"]}
    new_token = client_credentials(live, seed)
    assert jwt.decode(new_token, KeySet.import_key_set(jwks(live))).header["kid"] in new_kids
    published = {k["kid"] for k in jwks(live)["keys"]}
    assert old_kid in published and new_kids <= published
    jwt.decode(old_token, KeySet.import_key_set(jwks(live)))  # still verifiable
    clock.advance(timedelta(hours=1, minutes=6))
    assert old_kid not in {k["kid"] for k in jwks(live)["keys"]}
    assert db.session.scalar(select(AuditLog).where(AuditLog.activity == "Rotate signing keys"))


def test_jwks_has_both_algorithms(app, live, seed):
    algs = {k["alg"] for k in jwks(live)["keys"]}
    assert algs == {"RS256", "ES256"}


def test_tokens_are_signed_as_joserfc_signs_them(app, seed):
    """Signing with the cached `cryptography` key gives joserfc's exact bytes (RS256 is deterministic) and
    an ES256 signature that joserfc verifies under the header joserfc would write."""
    from joserfc.jwk import ECKey, RSAKey

    from idp import crypto
    from idp.oidc import keys

    claims = {"aud": "x", "iat": 1, "exp": 2, "name": "Zoë", "roles": ["a", "b"]}
    for alg, key_type in (("RS256", RSAKey), ("ES256", ECKey)):
        row = db.session.get(SigningKey, keys.signing_key(alg).kid)
        private = key_type.import_key(json.loads(crypto.unseal(row.private_jwk, "signing-key")))
        ours = keys.sign_jwt(dict(claims), alg)
        theirs = jwt.encode({"alg": alg, "typ": "JWT", "kid": row.kid}, dict(claims), private, algorithms=[alg])
        assert ours.split(".")[:2] == theirs.split(".")[:2]
        if alg == "RS256":
            assert ours == theirs
        decoded = jwt.decode(ours, KeySet.import_key_set(keys.jwks()), algorithms=[alg])
        assert decoded.claims == claims and decoded.header == {"typ": "JWT", "alg": alg, "kid": row.kid}


def test_cli_creates_tenant_user_group_client_with_json_and_audit(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["idp", "create-tenant", "--name", "Fabrikam", "--domain", "fabrikam.test", "--json"])
    tenant = json.loads(out.output)
    out = runner.invoke(args=["idp", "create-group", "--tenant", "fabrikam.test", "--name", "Pilot", "--json"])
    group = json.loads(out.output)
    out = runner.invoke(
        args=[
            "idp",
            "create-user",
            "--tenant",
            "fabrikam.test",
            "--upn",
            "bob@fabrikam.test",
            "--password",
            "pw-123456",
            "--role",
            "Authentication Administrator",
            "--group",
            "Pilot",
            "--json",
        ]
    )
    user = json.loads(out.output)
    assert user["roles"] == ["Authentication Administrator"]
    out = runner.invoke(
        args=[
            "idp",
            "create-client",
            "--tenant",
            tenant["id"],
            "--name",
            "App",
            "--redirect-uri",
            "http://localhost:8080/cb",
            "--json",
        ]
    )
    client = json.loads(out.output)
    assert client["client_secret"] and client["grant_types"] == ["authorization_code", "refresh_token"]
    out = runner.invoke(
        args=[
            "idp",
            "create-client",
            "--tenant",
            tenant["id"],
            "--name",
            "SPA",
            "--public",
            "--redirect-uri",
            "http://localhost:8080/cb",
            "--json",
        ]
    )
    assert json.loads(out.output)["client_secret"] is None
    activities = set(db.session.scalars(select(AuditLog.activity)))
    assert {"Add tenant", "Add group", "Add user", "Add application"} <= activities
    from idp.directory.models import GroupMember

    assert db.session.get(GroupMember, (group["id"], user["id"]))


def test_cli_refuses_bad_input(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["idp", "create-user", "--tenant", "none.test", "--upn", "a@none.test"]).exit_code != 0
    runner.invoke(args=["idp", "create-tenant", "--name", "F", "--domain", "f.test"])
    again = runner.invoke(args=["idp", "create-tenant", "--name", "G", "--domain", "f.test"])
    assert again.exit_code != 0 and "already verified" in again.output
    bad = runner.invoke(
        args=["idp", "create-client", "--tenant", "f.test", "--name", "x", "--public", "--grant", "client_credentials"]
    )
    assert bad.exit_code != 0 and "public client" in bad.output


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = json.loads(runner.invoke(args=["idp", "seed-demo", "--json", "--base-url", "http://127.0.0.1:5000"]).output)
    second = json.loads(
        runner.invoke(args=["idp", "seed-demo", "--json", "--base-url", "http://127.0.0.1:5000"]).output
    )
    assert first == second
    from idp.directory.models import User

    assert db.session.scalar(select(db.func.count()).select_from(User)) == 2
    out = runner.invoke(args=["idp", "seed-demo", "--base-url", "http://127.0.0.1:5000"]).output
    assert "admin@contoso.test" in out and "Contoso-Admin-1" in out


def test_es256_client_gets_es256_tokens(app, live, seed):
    runner = app.test_cli_runner()
    out = runner.invoke(
        args=[
            "idp",
            "create-client",
            "--tenant",
            "contoso.test",
            "--name",
            "Edge",
            "--grant",
            "client_credentials",
            "--signing-alg",
            "ES256",
            "--json",
        ]
    )
    client = json.loads(out.output)
    token = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    ).json()["access_token"]
    decoded = jwt.decode(token, KeySet.import_key_set(jwks(live)))
    assert decoded.header["alg"] == "ES256" and decoded.header["kid"]


def test_first_run_generates_owner_only_secrets_in_instance(tmp_path, monkeypatch):
    import os
    import stat
    from idp import create_app

    for name in ("SECRET_KEY", "IDP_ENCRYPTION_KEYS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDP_INSTANCE_PATH", str(tmp_path))
    first = create_app()
    secret = (tmp_path / "secret_key").read_text().strip()
    assert first.config["SECRET_KEY"] == secret and len(secret) >= 40
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'idp.db'}"
    for name in ("secret_key", "encryption.key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert create_app().config["SECRET_KEY"] == secret  # reused, not regenerated
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app().config["SECRET_KEY"] == "from-the-environment"
