"""Microsoft's own Graph SDKs for Python (msgraph-sdk, msgraph-beta-sdk) against the live test server: the
requests they build, with their typed models, work unchanged once the base URL points here."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from . import graph_sdk
from .support import app_client, app_token, enable_method

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PERMISSIONS = ["Policy.ReadWrite.AuthenticationMethod", "UserAuthenticationMethod.ReadWrite.All", "User.Read.All"]


def sdk_client(live, seed, beta: bool = False):
    """A GraphServiceClient (v1.0 or beta) whose base URL is the live server, as an app with PERMISSIONS."""
    token = app_token(live.url, "contoso.test", *app_client(seed.tenant, PERMISSIONS))
    return graph_sdk.client(live.url, token, beta=beta)


def test_v1_sdk_gets_passkey_creation_options(live, seed):
    """msgraph-sdk sends …/fido2Methods/creationOptions() (item 20 of issue 15)."""
    enable_method(seed.tenant.id, "Fido2")
    client = sdk_client(live, seed)
    options = asyncio.run(client.users.by_user_id(seed.alice.id).authentication.fido2_methods.creation_options.get())
    assert options.public_key is not None
    expires = options.challenge_timeout_date_time
    assert abs(expires - datetime.now(UTC) - timedelta(minutes=5)) < timedelta(seconds=60)


def test_beta_sdk_gets_creation_options_with_a_parameter_alias(live, seed):
    """msgraph-beta-sdk sends creationOptions(challengeTimeoutInMinutes=@challengeTimeoutInMinutes)?@…=N."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph_beta.generated.users.item.authentication.fido2_methods.creation_options_with_challenge_timeout_in_minutes.creation_options_with_challenge_timeout_in_minutes_request_builder import (
        CreationOptionsWithChallengeTimeoutInMinutesRequestBuilder as Builder,
    )

    enable_method(seed.tenant.id, "Fido2")
    client = sdk_client(live, seed, beta=True)
    config = RequestConfiguration(
        query_parameters=Builder.CreationOptionsWithChallengeTimeoutInMinutesRequestBuilderGetQueryParameters(
            challenge_timeout_in_minutes=30
        )
    )
    builder = client.users.by_user_id(
        seed.alice.id
    ).authentication.fido2_methods.creation_options_with_challenge_timeout_in_minutes
    options = asyncio.run(builder.get(request_configuration=config))
    expires = options.challenge_timeout_date_time
    assert abs(expires - datetime.now(UTC) - timedelta(minutes=30)) < timedelta(seconds=60)


def test_beta_sdk_creates_and_assigns_a_hardware_token_in_one_request(live, seed):
    """POST …/hardwareOathDevices with assignTo (item 18 of issue 15): 201, the token assigned."""
    from msgraph_beta.generated.models.hardware_oath_token_authentication_method_device import (
        HardwareOathTokenAuthenticationMethodDevice,
    )
    from msgraph_beta.generated.models.hardware_oath_token_hash_function import (
        HardwareOathTokenHashFunction,
    )
    from msgraph_beta.generated.models.user import User

    enable_method(seed.tenant.id, "HardwareOath")
    client = sdk_client(live, seed, beta=True)
    body = HardwareOathTokenAuthenticationMethodDevice(
        serial_number="SDK-0001",
        manufacturer="Contoso",
        model="Key 1000",
        secret_key=SECRET,
        time_interval_in_seconds=30,
        hash_function=HardwareOathTokenHashFunction.Hmacsha1,
        assign_to=User(id=seed.alice.id),
    )
    devices = client.directory.authentication_method_devices.hardware_oath_devices
    created = asyncio.run(devices.post(body))
    assert created.serial_number == "SDK-0001" and created.assigned_to.id == seed.alice.id
    assert getattr(created.status, "value", created.status) == "assigned"
    listed = asyncio.run(client.users.by_user_id(seed.alice.id).authentication.hardware_oath_methods.get())
    assert [m.device.serial_number for m in listed.value] == ["SDK-0001"]


@pytest.mark.parametrize("serial", ["SDK-0002"])
def test_beta_sdk_assign_to_an_unknown_user_creates_nothing(live, seed, serial):
    from kiota_abstractions.api_error import APIError
    from msgraph_beta.generated.models.hardware_oath_token_authentication_method_device import (
        HardwareOathTokenAuthenticationMethodDevice,
    )
    from msgraph_beta.generated.models.user import User

    client = sdk_client(live, seed, beta=True)
    body = HardwareOathTokenAuthenticationMethodDevice(
        serial_number=serial, secret_key=SECRET, time_interval_in_seconds=30, assign_to=User(id="nobody")
    )
    devices = client.directory.authentication_method_devices.hardware_oath_devices
    with pytest.raises(APIError) as refused:
        asyncio.run(devices.post(body))
    assert refused.value.response_status_code == 404
    assert asyncio.run(devices.get()).value == []
