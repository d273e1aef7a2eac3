"""JSON batching with msgraph-sdk's BatchRequestContent: several requests in one, dependsOn, 424 on a failed
dependency, the 20-request limit."""

import requests
from msgraph.generated.models.group import Group
from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from idp.directory import service as directory

from . import graph_sdk
from .test_graph_directory import ga_token, new_user, tool  # noqa: F401  (fixtures)


def test_a_batch_creates_and_reads_with_depends_on(live, seed, ga_token):
    async def scenario():
        graph = graph_sdk.client(live.url, ga_token)
        create = BatchRequestItem(request_information=graph.users.to_post_request_information(new_user()))
        read = BatchRequestItem(
            request_information=graph.users.by_user_id("dana@contoso.test").to_get_request_information(),
            depends_on=[create],
        )
        group = BatchRequestItem(
            request_information=graph.groups.to_post_request_information(
                Group(display_name="Pilot", mail_enabled=False, mail_nickname="pilot", security_enabled=True)
            )
        )
        content = BatchRequestContent({create.id: create, read.id: read, group.id: group})
        answer = await BatchRequestBuilder(graph.request_adapter).post(content)
        return answer.get_response_status_codes(), create.id, read.id, group.id

    statuses, create_id, read_id, group_id = graph_sdk.run(scenario)
    assert statuses == {create_id: 201, read_id: 200, group_id: 201}
    assert directory.find_user(seed.tenant, "dana@contoso.test") is not None
    assert directory.find_group(seed.tenant, "Pilot") is not None


def test_a_failed_dependency_is_424_and_limits_are_graphs(live, seed, ga_token):
    headers = {"Authorization": f"Bearer {ga_token}"}
    answer = requests.post(
        f"{live.url}/v1.0/$batch",
        headers=headers,
        json={
            "requests": [
                {"id": "1", "method": "GET", "url": "/users/nobody@contoso.test"},
                {"id": "2", "method": "GET", "url": "/users?$select=displayName&$top=1", "dependsOn": ["1"]},
                {"id": "3", "method": "GET", "url": "users/alice@contoso.test?$select=displayName"},
            ]
        },
    ).json()["responses"]
    by_id = {r["id"]: r for r in answer}
    assert by_id["1"]["status"] == 404 and by_id["1"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert by_id["2"]["status"] == 424
    assert by_id["3"]["status"] == 200 and by_id["3"]["body"]["displayName"] == "Alice Example"
    too_many = requests.post(
        f"{live.url}/v1.0/$batch",
        headers=headers,
        json={"requests": [{"id": str(n), "method": "GET", "url": "/me"} for n in range(21)]},
    )
    assert too_many.status_code == 400 and "limit of 20" in too_many.json()["error"]["message"]
    outside = requests.post(
        f"{live.url}/v1.0/$batch",
        headers=headers,
        json={"requests": [{"id": "1", "method": "GET", "url": "https://evil.example/v1.0/users"}]},
    )
    assert outside.status_code == 400
    nested = requests.post(
        f"{live.url}/v1.0/$batch",
        headers=headers,
        json={"requests": [{"id": "1", "method": "POST", "url": "/$batch", "body": {"requests": []}}]},
    )
    assert nested.status_code == 400
    anonymous = requests.post(
        f"{live.url}/v1.0/$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/me"}]}
    )
    assert anonymous.status_code == 401
