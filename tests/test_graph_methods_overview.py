"""Every method of a user in one list, and the registration report, through msgraph-sdk."""

import requests
from sqlalchemy import select

from idp import clock
from idp.extensions import db
from idp.methods.oath.models import OathMethod

from . import graph_sdk
from .test_graph_directory import ga_token, tool  # noqa: F401  (fixtures)
from .test_tap_signin import enable_tap


def test_methods_overview_and_registration_details(live, seed, ga_token):
    enable_tap(seed.tenant.id)
    headers = {"Authorization": f"Bearer {ga_token}"}
    assert (
        requests.post(
            f"{live.url}/v1.0/users/{seed.alice.id}/authentication/temporaryAccessPassMethods", json={}, headers=headers
        ).status_code
        == 201
    )
    db.session.add(
        OathMethod(
            tenant_id=seed.tenant.id, user_id=seed.admin.id, kind="software", secret="sealed", activated_at=clock.now()
        )
    )
    db.session.commit()

    async def scenario():
        graph = graph_sdk.client(live.url, ga_token)
        methods = await graph.users.by_user_id(seed.alice.id).authentication.methods.get()
        passwords = await graph.users.by_user_id(seed.alice.id).authentication.password_methods.get()
        report = await graph.reports.authentication_methods.user_registration_details.get()
        return methods, passwords, report

    methods, passwords, report = graph_sdk.run(scenario)
    assert sorted(m.odata_type for m in methods.value) == [
        "#microsoft.graph.passwordAuthenticationMethod",
        "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
    ]
    assert [p.id for p in passwords.value] == ["28c10230-6103-485e-b985-444c60001490"]
    rows = {r.user_principal_name: r for r in report.value}
    alice, admin = rows["alice@contoso.test"], rows["admin@contoso.test"]
    assert alice.methods_registered == ["password", "temporaryAccessPass"] and alice.is_mfa_registered is False
    assert admin.methods_registered == ["password", "softwareOneTimePasscode"] and admin.is_mfa_registered is True
    assert admin.is_admin is True and admin.is_passwordless_capable is False
    assert db.session.scalar(select(OathMethod.id).where(OathMethod.user_id == seed.admin.id))


def test_a_member_reads_only_their_own_methods(live, seed, tool):
    from .support import delegated_sign_in

    alice = delegated_sign_in(live.url, "contoso.test", tool, "alice@contoso.test")[0]["access_token"]
    own = requests.get(f"{live.url}/v1.0/me/authentication/methods", headers={"Authorization": f"Bearer {alice}"})
    assert own.status_code == 200 and [m["@odata.type"] for m in own.json()["value"]] == [
        "#microsoft.graph.passwordAuthenticationMethod"
    ]
    other = requests.get(
        f"{live.url}/v1.0/users/{seed.admin.id}/authentication/methods", headers={"Authorization": f"Bearer {alice}"}
    )
    assert other.status_code == 403
    report = requests.get(
        f"{live.url}/v1.0/reports/authenticationMethods/userRegistrationDetails",
        headers={"Authorization": f"Bearer {alice}"},
    )
    assert report.status_code == 403
