"""OData query options on the directory's collections, through msgraph-sdk: paging with PageIterator and
@odata.nextLink, $count and $search with ConsistencyLevel, $filter, $orderby, $select, and refusals."""

import pytest
import requests
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core import PageIterator

from idp.directory.models import User
from idp.extensions import db

from . import graph_sdk
from .support import app_client, app_token
from .test_caches_and_budget import counted


@pytest.fixture
def reader(live, seed):
    return app_token(live.url, "contoso.test", *app_client(seed.tenant, ["User.Read.All"]))


def add_people(tenant, count, start=0):
    for n in range(start, start + count):
        db.session.add(
            User(
                tenant_id=tenant.id,
                upn=f"person{n:03}@contoso.test",
                display_name=f"Person {n:03}",
                mail=f"person{n:03}@contoso.test",
                department="Sales" if n % 2 else "Support",
                account_enabled=n % 5 != 0,
            )
        )
    db.session.commit()


def query(**params):
    headers = params.pop("headers", {})
    config = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(**params))
    for name, value in headers.items():
        config.headers.add(name, value)
    return config


def test_page_iterator_walks_every_page_through_next_links(live, seed, reader):
    add_people(seed.tenant, 250)

    async def scenario():
        graph = graph_sdk.client(live.url, reader)
        first = await graph.users.get(query(top=100, select=["userPrincipalName"]))
        seen = []
        iterator = PageIterator(first, graph.request_adapter)
        await iterator.iterate(lambda user: seen.append(user.user_principal_name) or True)
        return first, seen

    first, seen = graph_sdk.run(scenario)
    assert len(first.value) == 100 and "$skiptoken=" in first.odata_next_link
    assert first.odata_next_link.startswith(live.url + "/v1.0/users?")
    assert len(seen) == 252 and len(set(seen)) == 252 and seen == sorted(seen)  # 250 + alice + admin, in order


def test_count_search_filter_and_orderby(live, seed, reader):
    add_people(seed.tenant, 30)

    async def scenario():
        graph = graph_sdk.client(live.url, reader)
        counted_sales = await graph.users.get(
            query(count=True, filter="department eq 'Sales'", headers={"ConsistencyLevel": "eventual"})
        )
        searched = await graph.users.get(
            query(search='"displayName:person 01"', count=True, headers={"ConsistencyLevel": "eventual"})
        )
        ordered = await graph.users.get(query(orderby=["displayName desc"], top=3))
        either = await graph.users.get(
            query(
                filter="userPrincipalName in ('person001@contoso.test', "
                "'PERSON002@contoso.test') or startswith(displayName,'adm')"
            )
        )
        disabled = await graph.users.get(query(filter="accountEnabled eq false and department eq 'Support'"))
        advanced = await graph.users.get(
            query(filter="department ne 'Sales'", count=True, headers={"ConsistencyLevel": "eventual"})
        )
        return counted_sales, searched, ordered, either, disabled, advanced

    counted_sales, searched, ordered, either, disabled, advanced = graph_sdk.run(scenario)
    assert counted_sales.odata_count == 15 and len(counted_sales.value) == 15
    assert sorted(u.display_name for u in searched.value) == [f"Person {n:03}" for n in range(10, 20)]
    assert searched.odata_count == 10
    assert [u.display_name for u in ordered.value] == ["Person 029", "Person 028", "Person 027"]
    assert sorted(u.user_principal_name for u in either.value) == [
        "admin@contoso.test",
        "person001@contoso.test",
        "person002@contoso.test",
    ]
    assert sorted(u.display_name for u in disabled.value) == ["Person 000", "Person 010", "Person 020"]
    assert advanced.odata_count == 17  # 15 Support + alice and admin, who have no department


@pytest.mark.parametrize(
    ("params", "headers", "code", "message"),
    [
        ({"$count": "true"}, {}, "Request_BadRequest", "ConsistencyLevel"),
        ({"$search": '"displayName:a"'}, {}, "Request_BadRequest", "ConsistencyLevel: eventual"),
        ({"$filter": "department ne 'Sales'"}, {}, "Request_UnsupportedQuery", "property 'department'"),
        ({"$filter": "createdDateTime eq 'x'"}, {}, "Request_UnsupportedQuery", "createdDateTime"),
        ({"$filter": "displayName eq"}, {}, "Request_BadRequest", "Invalid filter clause"),
        ({"$orderby": "department"}, {}, "Request_UnsupportedQuery", "Sorting not supported"),
        ({"$top": "1000"}, {}, "Request_BadRequest", "Must be between 1 and 999"),
        ({"$skiptoken": "not-a-token"}, {}, "Directory_ExpiredPageToken", "page token"),
        ({"$skip": "10"}, {}, "Request_BadRequest", "'$skip' is not supported"),
        ({"$levitate": "1"}, {}, "Request_BadRequest", "Unrecognized query argument"),
    ],
)
def test_unsupported_query_options_are_refused_in_graphs_words(live, seed, reader, params, headers, code, message):
    response = requests.get(
        f"{live.url}/v1.0/users", params=params, headers={"Authorization": f"Bearer {reader}", **headers}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert message in response.json()["error"]["message"]


def test_the_sdk_sees_a_refusal_as_an_odata_error(live, seed, reader):
    with pytest.raises(ODataError) as caught:
        graph_sdk.run(lambda: graph_sdk.client(live.url, reader).users.get(query(orderby=["jobTitle"])))
    assert caught.value.error.code == "Request_UnsupportedQuery"


def test_a_page_of_100_users_costs_as_many_statements_as_a_page_of_5(live, seed, reader):
    headers = {"Authorization": f"Bearer {reader}"}

    def statements_for_a_page(top: int) -> tuple[int, int]:
        with counted() as statements:
            response = requests.get(f"{live.url}/v1.0/users", params={"$top": str(top)}, headers=headers)
        assert response.status_code == 200
        return len(statements), len(response.json()["value"])

    def steady_statements(top: int) -> tuple[int, int]:
        # The fewest of three: a per-process cache that lapses (time-to-live of a few seconds) adds a
        # statement to one request now and then; a query per row would add a hundred to every one.
        counts = [statements_for_a_page(top) for _ in range(3)]
        return min(count for count, _ in counts), counts[0][1]

    add_people(seed.tenant, 153)
    statements_for_a_page(5)  # warms the per-process caches (signing keys, tenant)
    small, small_count = steady_statements(5)
    large, large_count = steady_statements(100)
    assert (small_count, large_count) == (5, 100)
    assert large == small <= 4, (small, large)
