"""Certificates of app registrations through Graph (keyCredentials, addKey, removeKey with its proof), driven by
msgraph-sdk; MSAL signs in with the certificate at once, and no longer once it is removed."""

import base64
import secrets
import uuid

import msal
import requests
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from joserfc import jwt
from joserfc.jwk import RSAKey
from msgraph.generated.applications.item.add_key.add_key_post_request_body import AddKeyPostRequestBody
from msgraph.generated.applications.item.remove_key.remove_key_post_request_body import RemoveKeyPostRequestBody
from msgraph.generated.models.application import Application
from msgraph.generated.models.key_credential import KeyCredential
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from idp import clock

from . import graph_sdk
from .test_entra_certificates import certificate
from .test_graph_directory import ga_token, tool  # noqa: F401  (fixtures)
from .test_msal_https import https  # noqa: F401  (fixture)

PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"


def der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def proof(key_pem, cert, app_object_id, lifetime=600, audience=PROOF_AUDIENCE) -> str:
    """The proof Graph documents: signed with a certificate the app holds, iss = the application's id."""
    now = clock.timestamp()
    thumb = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()  # noqa: S303
    header = {"alg": "RS256", "typ": "JWT", "x5t": thumb}
    claims = {"aud": audience, "iss": app_object_id, "nbf": now, "exp": now + lifetime, "jti": secrets.token_hex(8)}
    return jwt.encode(header, claims, RSAKey.import_key(key_pem), algorithms=["RS256"])


def certificate_credential(cert, name) -> KeyCredential:
    return KeyCredential(type="AsymmetricX509Cert", usage="Verify", key=der(cert), display_name=name)


def msal_token(https_url, client_id, key_pem, cert) -> dict:
    """A fresh MSAL app each time (its token cache would otherwise answer without asking the server)."""
    daemon = msal.ConfidentialClientApplication(
        client_id,
        client_credential={"private_key": key_pem.decode(), "thumbprint": cert.fingerprint(hashes.SHA1()).hex()},  # noqa: S303
        authority=f"{https_url}/contoso.test",
        instance_discovery=False,
    )
    return daemon.acquire_token_for_client(["https://graph.microsoft.com/.default"])


def odata_error(scenario, *args, **kwargs) -> ODataError:
    with pytest.raises(ODataError) as caught:
        graph_sdk.run(lambda: scenario(*args, **kwargs))
    return caught.value


def test_a_certificate_added_with_add_key_signs_in_at_once_and_stops_after_remove_key(live, https, ga_token, tmp_path):  # noqa: F811
    first_key, first_cert, _ = certificate(tmp_path, "first")
    second_key, second_cert, _ = certificate(tmp_path, "second")

    async def register_and_roll():
        graph = graph_sdk.client(live.url, ga_token)
        app = await graph.applications.post(
            Application(display_name="Rolling daemon", key_credentials=[certificate_credential(first_cert, "first")])
        )
        added = await graph.applications.by_application_id(app.id).add_key.post(
            AddKeyPostRequestBody(
                key_credential=certificate_credential(second_cert, "second"),
                proof=proof(first_key, first_cert, app.id),
            )
        )
        listed = await graph.applications.by_application_id(app.id).get()
        return app, added, listed

    app, added, listed = graph_sdk.run(register_and_roll)
    assert added.display_name == "second" and added.type == "AsymmetricX509Cert" and added.key is None
    assert {k.display_name for k in listed.key_credentials} == {"first", "second"}
    first_id = next(k.key_id for k in listed.key_credentials if k.display_name == "first")
    rolled = msal_token(https.url, app.app_id, second_key, second_cert)
    assert "access_token" in rolled, rolled
    assert "access_token" in msal_token(https.url, app.app_id, first_key, first_cert)

    async def remove(key_id, signed_by):
        graph = graph_sdk.client(live.url, ga_token)
        await graph.applications.by_application_id(app.id).remove_key.post(
            RemoveKeyPostRequestBody(key_id=key_id, proof=proof(*signed_by, app.id))
        )
        return await graph.applications.by_application_id(app.id).get()

    after = graph_sdk.run(remove, first_id, (second_key, second_cert))
    assert [k.display_name for k in after.key_credentials] == ["second"]
    refused = msal_token(https.url, app.app_id, first_key, first_cert)
    assert refused["error"] == "invalid_client" and refused["error_codes"] == [700027], refused
    assert refused["error_description"].startswith("AADSTS700027")
    assert "access_token" in msal_token(https.url, app.app_id, second_key, second_cert)


def test_add_key_and_remove_key_need_a_proof_from_a_certificate_the_app_holds(live, seed, ga_token, tmp_path):  # noqa: F811
    held_key, held_cert, _ = certificate(tmp_path, "held")
    other_key, other_cert, _ = certificate(tmp_path, "stranger")

    async def register():
        graph = graph_sdk.client(live.url, ga_token)
        bare = await graph.applications.post(Application(display_name="No certificate yet"))
        held = await graph.applications.post(
            Application(display_name="Holds one", key_credentials=[certificate_credential(held_cert, "held")])
        )
        return bare, held

    bare, held = graph_sdk.run(register)

    async def add(app_id, signed_by, **claims):
        graph = graph_sdk.client(live.url, ga_token)
        return await graph.applications.by_application_id(app_id).add_key.post(
            AddKeyPostRequestBody(
                key_credential=certificate_credential(other_cert, "new"), proof=proof(*signed_by, app_id, **claims)
            )
        )

    no_certificate = odata_error(add, bare.id, (held_key, held_cert))
    assert no_certificate.response_status_code == 400 and "PATCH" in no_certificate.error.message
    for signed_by, claims in [
        ((other_key, other_cert), {}),  # not the app's certificate
        ((held_key, held_cert), {"audience": "00000003-0000-0000-c000-000000000000"}),
        ((held_key, held_cert), {"lifetime": 3600}),  # more than ten minutes
    ]:
        error = odata_error(add, held.id, signed_by, **claims)
        assert error.response_status_code == 401 and error.error.code == "Authentication_MissingOrMalformed"

    async def remove(key_id, signed_by):
        graph = graph_sdk.client(live.url, ga_token)
        await graph.applications.by_application_id(held.id).remove_key.post(
            RemoveKeyPostRequestBody(key_id=key_id, proof=proof(*signed_by, held.id))
        )

    held_id = held.key_credentials[0].key_id
    assert odata_error(remove, held_id, (other_key, other_cert)).response_status_code == 401
    missing = odata_error(remove, uuid.uuid4(), (held_key, held_cert))
    assert missing.response_status_code == 404 and missing.error.code == "Request_ResourceNotFound"


def test_malformed_add_key_and_remove_key_bodies_are_graph_s_4xx(live, ga_token, tmp_path):  # noqa: F811
    key_pem, cert, _ = certificate(tmp_path, "held")
    created = requests.post(
        f"{live.url}/v1.0/applications",
        headers={"Authorization": f"Bearer {ga_token}"},
        json={
            "displayName": "Malformed",
            "keyCredentials": [
                {"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(der(cert)).decode()}
            ],
        },
    ).json()
    good_proof = proof(key_pem, cert, created["id"])
    cases = [
        ("addKey", {}, 400),
        ("addKey", {"keyCredential": "x", "proof": good_proof}, 400),
        (
            "addKey",
            {"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "!!"}, "proof": good_proof},
            400,
        ),
        ("addKey", {"keyCredential": {"type": "Symmetric", "usage": "Sign", "key": "AA=="}, "proof": good_proof}, 400),
        (
            "addKey",
            {"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "AA=="}, "proof": "x.y.z"},
            401,
        ),
        ("addKey", {"keyCredential": {}, "proof": 7}, 400),
        ("removeKey", {"keyId": "not-a-guid", "proof": good_proof}, 404),
        ("removeKey", {"keyId": 5, "proof": good_proof}, 400),
        ("removeKey", {"proof": good_proof}, 400),
    ]
    for action, body, status in cases:
        response = requests.post(
            f"{live.url}/v1.0/applications/{created['id']}/{action}",
            headers={"Authorization": f"Bearer {ga_token}"},
            json=body,
        )
        assert response.status_code == status, (action, body, response.text[:300])
        assert response.json()["error"]["code"]


def test_an_app_rolls_its_own_certificate_without_any_permission_but_no_one_else_s(live, seed, ga_token, tmp_path):  # noqa: F811
    from .test_entra_certificates import assertion

    old_key, old_cert, _ = certificate(tmp_path, "old")
    new_key, new_cert, _ = certificate(tmp_path, "new")

    async def register():
        graph = graph_sdk.client(live.url, ga_token)
        own = await graph.applications.post(
            Application(display_name="Self-rolling", key_credentials=[certificate_credential(old_cert, "old")])
        )
        other = await graph.applications.post(
            Application(display_name="Someone else", key_credentials=[certificate_credential(old_cert, "old")])
        )
        return own, other

    own, other = graph_sdk.run(register)
    audience = f"{live.url}/{seed.tenant.id}/oauth2/v2.0/token"
    issued = requests.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": own.app_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(old_key, old_cert, own.app_id, audience),
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert issued.status_code == 200, issued.text
    itself = graph_sdk.client(live.url, issued.json()["access_token"])

    async def roll(app):
        return await itself.applications.by_application_id(app.id).add_key.post(
            AddKeyPostRequestBody(
                key_credential=certificate_credential(new_cert, "new"), proof=proof(old_key, old_cert, app.id)
            )
        )

    assert graph_sdk.run(roll, own).display_name == "new"
    assert odata_error(roll, other).response_status_code == 403
    assert (
        "access_token"
        in requests.post(
            f"{live.url}/contoso.test/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": own.app_id,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion(new_key, new_cert, own.app_id, audience),
                "scope": "https://graph.microsoft.com/.default",
            },
        ).json()
    )
