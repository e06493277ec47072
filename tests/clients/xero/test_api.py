"""The Xero API calls: connections, removing a connection, the organisation, and the
per-organisation limit on concurrent calls.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.domain.errors import ExternalServiceError, InvalidRequest, XeroConnectionGone
from bot.domain.ports import Organisation, XeroTenantConnection
from tests.clients.xero.xero_fixtures import (
    ACCESS,
    AUTH_EVENT,
    CONNECTIONS_URL,
    ORGANISATION_URL,
    TENANT_A,
    TENANT_B,
    FakeSleep,
    organisation_json,
)

# --- connections ----------------------------------------------------------------------------


def connection_json(tenant_id: str = TENANT_A, name: str = "Harbour Cafés Ltd") -> dict[str, str]:
    return {
        "id": f"conn-{tenant_id}",
        "authEventId": AUTH_EVENT,
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": name,
        "createdDateUtc": "2026-11-23T09:00:00.0000000",
        "updatedDateUtc": "2026-11-23T09:00:00.0000000",
    }


async def test_connections_filters_by_auth_event(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(CONNECTIONS_URL).respond(
        json=[connection_json(), connection_json(TENANT_B, "Harbour Bakery")]
    )
    connections = await client.connections(access_token=ACCESS, auth_event_id=AUTH_EVENT)
    assert connections == [
        XeroTenantConnection(
            id=f"conn-{TENANT_A}",
            tenant_id=TENANT_A,
            tenant_name="Harbour Cafés Ltd",
            tenant_type="ORGANISATION",
            auth_event_id=AUTH_EVENT,
        ),
        XeroTenantConnection(
            id=f"conn-{TENANT_B}",
            tenant_id=TENANT_B,
            tenant_name="Harbour Bakery",
            tenant_type="ORGANISATION",
            auth_event_id=AUTH_EVENT,
        ),
    ]
    request = route.calls.last.request
    assert request.url.params["authEventId"] == AUTH_EVENT
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert "xero-tenant-id" not in request.headers


async def test_connections_without_filter_sends_no_query(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(CONNECTIONS_URL).respond(json=[])
    assert await client.connections(access_token=ACCESS) == []
    assert route.calls.last.request.url.query == b""


@pytest.mark.parametrize(
    "body",
    [{"not": "a list"}, [1], [{"tenantId": TENANT_A}], [{"id": "x", "tenantId": 5}]],
    ids=["object", "number", "no-id", "tenant-id-number"],
)
async def test_connections_wrong_shape_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter, body: object
) -> None:
    xero_api.get(CONNECTIONS_URL).respond(json=body)
    with pytest.raises(ExternalServiceError) as caught:
        await client.connections(access_token=ACCESS)
    assert not caught.value.retryable


async def test_connections_401_is_connection_gone(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(CONNECTIONS_URL).respond(401, json={"Title": "Unauthorized"})
    with pytest.raises(XeroConnectionGone):
        await client.connections(access_token=ACCESS)


async def test_delete_connection_204_is_true(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.delete(f"{CONNECTIONS_URL}/conn-1").respond(204)
    assert await client.delete_connection(access_token=ACCESS, connection_id="conn-1") is True
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {ACCESS}"


async def test_delete_connection_404_is_false(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.delete(f"{CONNECTIONS_URL}/conn-1").respond(404)
    assert await client.delete_connection(access_token=ACCESS, connection_id="conn-1") is False
    assert route.call_count == 1
    assert sleep.delays == []


async def test_delete_connection_quotes_the_id(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.delete(f"{CONNECTIONS_URL}/a%2Fb").respond(204)
    assert await client.delete_connection(access_token=ACCESS, connection_id="a/b") is True
    assert route.call_count == 1


# --- organisation ---------------------------------------------------------------------------


async def test_organisation_is_read_with_tenant_header(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(json=organisation_json())
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation == Organisation(
        name="Harbour Cafés Ltd",
        plan_class="GROW",
        edition="BUSINESS",
        is_demo_company=False,
        status="ACTIVE",
    )
    request = route.calls.last.request
    assert request.headers["xero-tenant-id"] == TENANT_A
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"


async def test_organisation_unknown_class_passes_through(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(ORGANISATION_URL).respond(
        json=organisation_json(Class="FUTURE_PLAN", Edition="PARTNER", IsDemoCompany=True)
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation.plan_class == "FUTURE_PLAN"
    assert organisation.edition == "PARTNER"
    assert organisation.is_demo_company is True


async def test_organisation_missing_optional_fields_are_empty(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(ORGANISATION_URL).respond(
        json={"Organisations": [{"Name": "Bare", "Class": None}]}
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation == Organisation(
        name="Bare", plan_class="", edition="", is_demo_company=False, status=""
    )


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="{not json"),
        httpx.Response(200, json=[]),
        httpx.Response(200, json={"Organisations": []}),
        httpx.Response(200, json={"Organisations": ["x"]}),
        httpx.Response(200, json={"Organisations": [{"Class": "GROW"}]}),
        httpx.Response(200, json=organisation_json(IsDemoCompany="yes")),
        httpx.Response(200, json=organisation_json(Class=7)),
    ],
    ids=["not-json", "list", "empty", "string", "no-name", "demo-text", "class-number"],
)
async def test_organisation_wrong_shape_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter, response: httpx.Response
) -> None:
    xero_api.get(ORGANISATION_URL).mock(return_value=response)
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert not caught.value.retryable


async def test_unusable_access_token_is_rejected_without_echo(client: XeroClient) -> None:
    bad = "secret token\nwith newline"
    with pytest.raises(InvalidRequest) as caught:
        await client.organisation(access_token=bad, tenant_id=TENANT_A)
    assert bad not in str(caught.value)


async def test_at_most_five_concurrent_calls_per_tenant(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    in_flight = {TENANT_A: 0, TENANT_B: 0}
    peak = {TENANT_A: 0, TENANT_B: 0}
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        tenant = request.headers["xero-tenant-id"]
        in_flight[tenant] += 1
        peak[tenant] = max(peak[tenant], in_flight[tenant])
        try:
            if tenant == TENANT_A:
                await release.wait()
            else:
                await asyncio.sleep(0)
            return httpx.Response(200, json=organisation_json())
        finally:
            in_flight[tenant] -= 1

    xero_api.get(ORGANISATION_URL).mock(side_effect=answer)
    calls = [
        asyncio.create_task(client.organisation(access_token=ACCESS, tenant_id=TENANT_A))
        for _ in range(12)
    ]
    for _ in range(100):
        await asyncio.sleep(0)
        if in_flight[TENANT_A] == 5:
            break
    assert in_flight[TENANT_A] == 5

    other = await asyncio.wait_for(
        client.organisation(access_token=ACCESS, tenant_id=TENANT_B), timeout=2
    )
    assert other.name == "Harbour Cafés Ltd"
    for _ in range(20):
        await asyncio.sleep(0)
    assert in_flight[TENANT_A] == 5
    assert not any(call.done() for call in calls)

    release.set()
    results = await asyncio.gather(*calls)
    assert len(results) == 12
    assert peak[TENANT_A] == 5
    assert peak[TENANT_B] == 1
