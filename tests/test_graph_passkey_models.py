"""Which passkey models are in use in a tenant, the way Graph lets one ask: Graph's registration report has no
per-model breakdown, so a script walks `userRegistrationDetails` (PageIterator) for the users with a passkey
and reads each one's `fido2Methods`, whose `aaGuid` and `model` name the authenticator."""

from collections import Counter

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.reports.authentication_methods.user_registration_details.user_registration_details_request_builder import (  # noqa: E501
    UserRegistrationDetailsRequestBuilder,
)
from msgraph_core import PageIterator

from idp.directory import service as directory
from idp.extensions import db
from idp.methods.passkey.models import Passkey

from . import graph_sdk
from .test_graph_directory import ga_token, tool  # noqa: F401  (fixtures)

YUBIKEY = ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series")
FEITIAN = ("12ded745-4bed-47d4-abaa-e713f51d6393", "Feitian AllinOne FIDO2")


def passkey(user, aaguid, model, n):
    db.session.add(
        Passkey(
            tenant_id=user.tenant_id,
            user_id=user.id,
            credential_id=f"credential-{user.id}-{n}",
            public_key=b"cose",
            aaguid=aaguid,
            model=model,
            display_name=model,
            attestation_format="packed",
            attestation_level="attested",
            upn_at_registration=user.upn,
        )
    )


async def models_in_use(graph) -> Counter:
    """The script an administrator runs: (aaGuid, model) -> how many passkeys, over the whole tenant."""
    report = graph.reports.authentication_methods.user_registration_details
    first = await report.get(
        RequestConfiguration(
            query_parameters=UserRegistrationDetailsRequestBuilder.UserRegistrationDetailsRequestBuilderGetQueryParameters(
                top=2
            )
        )
    )
    holders: list[str] = []

    def keep(row) -> bool:
        if "passKeyDeviceBound" in (row.methods_registered or []):
            holders.append(row.id)
        return True  # go on to the next row (and page)

    await PageIterator(first, graph.request_adapter).iterate(keep)
    found: Counter = Counter()
    for user_id in holders:
        for method in (await graph.users.by_user_id(user_id).authentication.fido2_methods.get()).value:
            found[(method.aa_guid, method.model)] += 1
    return found


def test_an_admin_lists_the_passkey_models_in_use_in_the_tenant(live, seed, ga_token):
    people = [directory.create_user(seed.tenant, f"p{i}@contoso.test", f"P{i}", "Pw-123456!") for i in range(3)]
    passkey(people[0], *YUBIKEY, 1)
    passkey(people[0], *FEITIAN, 2)
    passkey(people[2], *YUBIKEY, 3)
    elsewhere = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    outsider = directory.create_user(elsewhere, "eve@fabrikam.test", "Eve", "Pw-123456!")
    passkey(outsider, *FEITIAN, 4)
    db.session.commit()

    async def scenario():
        graph = graph_sdk.client(live.url, ga_token)
        one = await graph.reports.authentication_methods.user_registration_details.by_user_registration_details_id(
            people[0].id
        ).get()
        return await models_in_use(graph), one

    found, one = graph_sdk.run(scenario)
    assert found == Counter({YUBIKEY: 2, FEITIAN: 1})  # the other tenant's key is not counted
    assert "passKeyDeviceBound" in one.methods_registered and one.is_passwordless_capable is True
