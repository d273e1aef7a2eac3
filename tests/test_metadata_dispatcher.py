"""Discovery and JWKS from the WSGI dispatcher in front of Flask: replayed bytes, right per tenant, host and
scheme, renewed on key rotation and with age, and nothing else taken from that layer."""

from contextlib import contextmanager
from datetime import timedelta

from flask import request_started

from idp import clock
from idp.oidc import keys

DISCOVERY = "/{}/v2.0/.well-known/openid-configuration"
JWKS = "/{}/discovery/v2.0/keys"


@contextmanager
def flask_requests(app):
    seen = []

    def started(sender, **extra):
        seen.append(1)

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


def test_metadata_is_replayed_without_flask(app, seed):
    http = app.test_client()
    for path in (DISCOVERY.format("contoso.test"), JWKS.format("contoso.test")):
        first = http.get(path)
        with flask_requests(app) as seen:
            again = http.get(path)
        assert seen == [] and again.status_code == 200
        assert again.data == first.data and again.headers == first.headers  # security headers included
    with flask_requests(app) as seen:  # a query string, a POST: through Flask as ever
        http.get(JWKS.format("contoso.test") + "?x=1")
        http.post(JWKS.format("contoso.test"))
    assert len(seen) == 2


def test_each_tenant_host_and_scheme_gets_its_own_document(app, seed):
    app.config["TRUSTED_HOSTS"] = [*app.config["TRUSTED_HOSTS"], "idp-one.test", "idp-two.test"]  # allow-listed
    http = app.test_client()
    path = DISCOVERY.format("contoso.test")
    one = http.get(path, base_url="http://idp-one.test").json
    two = http.get(path, base_url="https://idp-two.test").json
    assert one["issuer"] == f"http://idp-one.test/{seed.tenant.id}/v2.0"
    assert two["issuer"] == f"https://idp-two.test/{seed.tenant.id}/v2.0"
    assert http.get(path, base_url="http://idp-one.test").json == one
    assert http.get(DISCOVERY.format(seed.tenant.id)).json["issuer"].endswith(f"/{seed.tenant.id}/v2.0")
    organizations = http.get(DISCOVERY.format("organizations")).json
    assert organizations["issuer"].endswith("/{tenantid}/v2.0")


def test_only_successes_are_kept(app, seed):
    from idp.directory import service as directory
    from idp.extensions import db

    http = app.test_client()
    assert http.get(DISCOVERY.format("fabrikam.test")).status_code == 404
    directory.create_tenant("Fabrikam", ["fabrikam.test"])
    db.session.commit()
    assert http.get(DISCOVERY.format("fabrikam.test")).status_code == 200


def test_a_rotation_shows_at_once_and_age_renews(app, seed):
    http = app.test_client()
    path = JWKS.format("contoso.test")
    before = {k["kid"] for k in http.get(path).json["keys"]}
    new = {row.kid for row in keys.rotate()}
    assert new <= {k["kid"] for k in http.get(path).json["keys"]} and not new & before
    http.get(path)
    clock.advance(timedelta(seconds=31))
    with flask_requests(app) as seen:
        http.get(path)
    assert seen == [1]  # aged out: asked again


def test_a_replay_reports_no_sql_to_the_benchmark(tmp_path, template_db):
    """With IDP_COUNT_SQL (make bench) each response says how many statements it ran: a replayed document ran
    none, whatever its first build needed, so the benchmark's SQL column is right for this layer."""
    import shutil

    from idp import create_app

    from .conftest import _config

    shutil.copy(template_db, tmp_path / "idp.db")
    counted = create_app({**_config(tmp_path, f"sqlite:///{tmp_path / 'idp.db'}"), "IDP_COUNT_SQL": True})
    with counted.app_context():
        from .support import Seed

        Seed.create(counted)
        http = counted.test_client()
        first = http.get(JWKS.format("contoso.test"))
        again = http.get(JWKS.format("contoso.test"))
    assert first.status_code == again.status_code == 200
    assert int(first.headers["X-SQL-Statements"]) > 0  # the first build read the tenant and the keys
    assert again.headers["X-SQL-Statements"] == "0"
