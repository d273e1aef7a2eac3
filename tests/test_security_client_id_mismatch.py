"""One request, one client: a client_id in the body that names another app than the HTTP Basic credentials
authenticate is refused (RFC 6749 2.3: one authentication per request), not answered for the Basic client
while the body says it is another one (what `/common` resolves its tenant from, and what logs show)."""

import base64

from .test_quick_path import GRAPH


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_body_client_id_other_than_the_basic_one_is_refused(app, seed):
    daemon = basic(seed.app_client_id, seed.app_client_secret)
    cases = {
        "/oauth2/v2.0/token": {"grant_type": "client_credentials", "scope": GRAPH},
        "/oauth2/v2.0/introspect": {"token": "x" * 40},
    }
    for path, form in cases.items():
        for tenant in ("contoso.test", "common"):
            with app.app_context():
                answer = app.test_client().post(
                    f"/{tenant}{path}", headers=daemon, data={**form, "client_id": seed.client_id}
                )
            assert answer.status_code in (400, 401), (tenant, path, answer.get_json())
            assert answer.get_json()["error"] in ("invalid_request", "invalid_client"), answer.get_json()
        with app.app_context():  # the same client named both ways is fine (MSAL sends both)
            same = app.test_client().post(
                f"/contoso.test{path}", headers=daemon, data={**form, "client_id": seed.app_client_id}
            )
        assert same.status_code == 200, same.get_json()
