"""A database dump holds no usable secret; the sign-in pages send the security headers and cookie flags."""

import re

import pytest
from sqlalchemy import MetaData, select

from idp.extensions import db
from idp.methods.oath import service as oath
from idp.methods.tap import service as tap_service

from .smtp import wait_for
from .support import PASSWORD, Agent
from .test_guests import GUEST, invite
from .test_oidc_flow import signed_in
from .test_tap_signin import enable_tap


def dump() -> str:
    """Every value of every table, as text (what `pg_dump` or a copy of the SQLite file would reveal)."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    lines = []
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                lines.append(" ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row))
    return "\n".join(lines)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_database_dump_holds_no_usable_secret(app, live, seed, smtp):
    enable_tap(seed.tenant.id)
    _, tap_code = tap_service.create(seed.alice, None)
    enrolment = oath.start_software_enrolment(seed.alice)
    device = oath.create_device(
        seed.tenant.id, "SN-1", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 30, "hmacsha1", "Contoso", "K", None
    )
    db.session.commit()
    rp, agent, token = signed_in(live, seed)  # refresh token, authorization code, SSO session
    invite(live, seed, send=False)
    guest_agent = Agent(live.url)
    guest_agent.go(invite(live, seed, send=False)[1].json()["inviteRedeemUrl"].replace("http://localhost", live.url))
    guest_agent.submit("", action="send")
    assert wait_for(lambda: smtp.to(GUEST))
    email_code = re.search(r"\b(\d{8})\b", smtp.to(GUEST)[-1].get_payload(decode=True).decode()).group(1)
    text = dump()
    secrets = {
        "TAP code": tap_code,
        "authenticator app seed": enrolment.secret,
        "hardware token seed": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "email code": email_code,
        "refresh token": token["refresh_token"],
        "password": PASSWORD,
        "client secret": seed.client_secret,
        "access token": token["access_token"],
    }
    for name, value in secrets.items():
        assert value not in text, f"the {name} is readable in a database dump"
    assert "PRIVATE KEY" not in text and '"d":' not in text  # signing keys are sealed, never PEM or JWK
    assert device.secret != "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_security_headers_and_cookie_flags(live, seed):
    agent = Agent(live.url)
    page = agent.go("/contoso.test/login/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "same-origin"
    flow_cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in flow_cookie and "SameSite=Lax" in flow_cookie
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    response = agent.http.post(
        agent.page.url,
        data={**dict(re.findall(r'name="(csrf_token)" value="([^"]+)"', agent.page.text)), "stay": "yes"},
        allow_redirects=False,
        headers={"Referer": agent.page.url},
    )
    sso = [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("idp_sso_")]
    assert sso and "HttpOnly" in sso[0] and "SameSite=Lax" in sso[0]
    token = agent.http.post(
        f"{live.url}/contoso.test/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        auth=(seed.app_client_id, seed.app_client_secret),
    )
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"


def test_encryption_key_rotation_reseals_every_secret(app, seed):
    """A new key first, `flask idp reseal`, then the old key can go: every secret still opens."""
    import os
    from idp.methods.oath.models import OathMethod
    from idp.oidc import keys

    enrolment = oath.start_software_enrolment(seed.alice)
    db.session.commit()
    old = dict(app.config["IDP_ENCRYPTION_KEYS"])
    new_key = os.urandom(32)
    app.config["IDP_ENCRYPTION_KEYS"] = {"k2": new_key, **old}
    result = app.test_cli_runner().invoke(args=["idp", "reseal", "--json"])
    assert result.exit_code == 0, result.output
    assert __import__("json").loads(result.output)["oath_method"] == 1
    app.config["IDP_ENCRYPTION_KEYS"] = {"k2": new_key}  # the old key is gone
    db.session.expire_all()
    method = db.session.get(OathMethod, enrolment.method.id)
    assert method.secret.split(".")[1] == "k2" and oath.unseal(method.secret) == enrolment.secret
    keys.forget()  # the signing keys are opened again, now under the new key alone
    assert keys.signing_key("ES256").private_key is not None
