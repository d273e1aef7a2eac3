"""Certificate credentials (private_key_jwt with x5t / x5t#S256), as MSAL and azure-identity send them."""

import base64
import json
import secrets
from datetime import datetime, timedelta, timezone

import msal
import requests
from azure.identity import CertificateCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp import clock

from .test_msal_https import _keys, https  # noqa: F401  (fixture)

ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def certificate(tmp_path, name="daemon"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / f"{name}.pem").write_bytes(cert_pem)
    (tmp_path / f"{name}-with-key.pem").write_bytes(key_pem + cert_pem)
    return key_pem, cert, tmp_path / f"{name}.pem"


def register(app, path):
    result = app.test_cli_runner().invoke(
        args=[
            "idp",
            "create-client",
            "--tenant",
            "contoso.test",
            "--name",
            "Cert daemon",
            "--grant",
            "client_credentials",
            "--permission",
            "User.Read.All",
            "--certificate",
            str(path),
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def assertion(key_pem, cert, client_id, audience, lifetime=600, header_name="x5t#S256", jti=None):
    now = clock.timestamp()
    digest = cert.fingerprint(hashes.SHA256() if header_name == "x5t#S256" else hashes.SHA1())  # noqa: S303
    header = {"alg": "RS256", "typ": "JWT", header_name: base64.urlsafe_b64encode(digest).rstrip(b"=").decode()}
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": jti or secrets.token_hex(8),
        "nbf": now,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(header, claims, RSAKey.import_key(key_pem), algorithms=["RS256"])


def test_msal_and_azure_identity_sign_in_with_a_certificate(https, seed, app, tmp_path):  # noqa: F811
    key_pem, cert, path = certificate(tmp_path)
    created = register(app, path)
    client_id = created["client_id"]
    assert created["client_secret"] and created["certificate_thumbprints"][0]["x5t"]
    thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303
    daemon = msal.ConfidentialClientApplication(
        client_id,
        client_credential={"private_key": key_pem.decode(), "thumbprint": thumbprint},
        authority=f"{https.url}/contoso.test",
        instance_discovery=False,
    )
    result = daemon.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], _keys(https)).claims
    assert claims["appidacr"] == "2" and claims["azpacr"] == "2" and claims["roles"] == ["User.Read.All"]
    credential = CertificateCredential(
        seed.tenant.id,
        client_id,
        certificate_path=str(tmp_path / "daemon-with-key.pem"),
        authority=https.url,
        disable_instance_discovery=True,
    )
    assert credential.get_token("https://graph.microsoft.com/.default").token.count(".") == 2


def test_assertions_are_single_use_short_lived_and_bound(https, seed, app, tmp_path):  # noqa: F811
    key_pem, cert, path = certificate(tmp_path)
    client_id = register(app, path)["client_id"]
    endpoint = f"{https.url}/contoso.test/oauth2/v2.0/token"
    audience = f"{https.url}/{seed.tenant.id}/oauth2/v2.0/token"

    def post(token):
        return requests.post(
            endpoint,
            verify=https.ca,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_assertion_type": ASSERTION,
                "client_assertion": token,
                "scope": "https://graph.microsoft.com/.default",
            },
        )

    once = assertion(key_pem, cert, client_id, audience)
    assert post(once).status_code == 200
    replay = post(once)
    assert replay.json()["error"] == "invalid_client" and replay.json()["error_codes"] == [700027]
    assert post(assertion(key_pem, cert, client_id, audience, header_name="x5t")).status_code == 200
    assert post(assertion(key_pem, cert, client_id, audience, lifetime=3 * 3600)).json()["error_codes"] == [700027]
    assert post(assertion(key_pem, cert, client_id, "https://elsewhere.example/token")).json()["error_codes"] == [
        700027
    ]
    other_key, other_cert, _ = certificate(tmp_path, "stranger")
    assert post(assertion(other_key, other_cert, client_id, audience)).json()["error_codes"] == [700027]
    expired = assertion(key_pem, cert, client_id, audience, lifetime=60)
    clock.advance(timedelta(minutes=5))
    assert post(expired).json()["error_codes"] == [700027]
