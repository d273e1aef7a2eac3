"""The requests Microsoft Graph PowerShell sends for TAP work unchanged; $select and $filter."""

from datetime import timedelta

import requests

from idp import clock


from .support import app_client, app_token
from .test_tap_signin import enable_tap

SDK_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "SdkVersion": "graph-powershell/2.25.0",
    "User-Agent": "Mozilla/5.0 (Windows NT; ...) PowerShell/7.4",
}


def sdk(live, seed):
    token = app_token(
        live.url, "contoso.test", *app_client(seed.tenant, ["UserAuthenticationMethod.ReadWrite.All", "User.Read.All"])
    )
    return {**SDK_HEADERS, "Authorization": f"Bearer {token}"}


def test_powershell_tap_cmdlets(live, seed):
    enable_tap(seed.tenant.id)
    headers = sdk(live, seed)
    base = f"{live.url}/v1.0/users/{seed.alice.id}/authentication/temporaryAccessPassMethods"
    # New-MgUserAuthenticationTemporaryAccessPassMethod -UserId $id -BodyParameter @{isUsableOnce=$true; startDateTime=...}
    day = (clock.now() + timedelta(days=30)).date().isoformat()  # passes start at most 365 days ahead
    start = f"{day}T10:00:00.0000000+00:00"
    body = (
        '{"@odata.type":"#microsoft.graph.temporaryAccessPassAuthenticationMethod","isUsableOnce":true,"startDateTime":"%s"}'
        % start
    )
    created = requests.post(base, data=body, headers=headers)
    assert created.status_code == 201, created.text
    tap = created.json()
    assert tap["startDateTime"] == f"{day}T10:00:00Z" and tap["isUsableOnce"] is True and tap["temporaryAccessPass"]
    assert tap["methodUsabilityReason"] == "NotYetValid"
    assert tap["@odata.context"].endswith(
        "/$metadata#users('%s')/authentication/temporaryAccessPassMethods/$entity" % seed.alice.id
    )
    # Get-MgUserAuthenticationTemporaryAccessPassMethod -UserId $id
    listed = requests.get(base, headers=headers).json()
    assert listed["@odata.context"].endswith("/authentication/temporaryAccessPassMethods") and len(listed["value"]) == 1
    # ... -TemporaryAccessPassAuthenticationMethodId $tapId, with -Property (sent as $select)
    got = requests.get(f"{base}/{tap['id']}", params={"$select": "lifetimeInMinutes,isUsable"}, headers=headers).json()
    assert set(got) == {"@odata.context", "id", "lifetimeInMinutes", "isUsable"}
    # Remove-MgUserAuthenticationTemporaryAccessPassMethod
    assert requests.delete(f"{base}/{tap['id']}", headers=headers).status_code == 204
    assert requests.get(base, headers=headers).json()["value"] == []


def test_users_filter_and_select(live, seed):
    headers = sdk(live, seed)
    found = requests.get(
        f"{live.url}/v1.0/users",
        headers=headers,
        params={"$filter": "userPrincipalName eq 'Alice@contoso.test'", "$select": "displayName"},
    ).json()
    assert found["value"] == [{"id": seed.alice.id, "displayName": "Alice Example"}]
    prefix = requests.get(
        f"{live.url}/v1.0/users", headers=headers, params={"$filter": "startswith(displayName,'Adm')"}
    )
    assert [u["userPrincipalName"] for u in prefix.json()["value"]] == ["admin@contoso.test"]
    bad = requests.get(f"{live.url}/v1.0/users", headers=headers, params={"$filter": "accountEnabled ne true"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"
