"""What the Xero client retries, how long it waits, and what it gives up on at once."""

from __future__ import annotations

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.domain.errors import ExternalServiceError, XeroConnectionGone, XeroGrantRevoked
from tests.clients.xero.xero_fixtures import (
    ACCESS,
    CODE,
    NEW_REFRESH,
    OLD_REFRESH,
    ORGANISATION_URL,
    REVOKE_URL,
    TENANT_A,
    TOKEN_URL,
    FakeSleep,
    form,
    organisation_json,
    token_json,
)

# --- token endpoint -------------------------------------------------------------------------


async def test_exchange_code_is_not_retried_on_timeout(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=token_json())]
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.exchange_code(code=CODE)
    assert caught.value.retryable
    assert "connect to Xero again" in caught.value.message
    assert route.call_count == 1
    assert sleep.delays == []


async def test_refresh_invalid_grant_is_grant_revoked_and_not_retried(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=OLD_REFRESH)
    assert route.call_count == 1
    assert sleep.delays == []


async def test_refresh_retries_a_lost_answer_with_the_same_refresh_token(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=token_json())]
    )
    tokens = await client.refresh(refresh_token=OLD_REFRESH)
    assert tokens.refresh_token == NEW_REFRESH
    assert route.call_count == 2
    sent = [form(call.request)["refresh_token"] for call in route.calls]
    assert sent == [OLD_REFRESH, OLD_REFRESH]
    assert sleep.delays == [0.5]


async def test_refresh_gives_up_after_max_attempts_of_5xx(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).respond(503, text="Service Unavailable")
    with pytest.raises(ExternalServiceError) as caught:
        await client.refresh(refresh_token=OLD_REFRESH)
    assert caught.value.retryable
    assert caught.value.message.startswith("Xero is not answering right now")
    assert route.call_count == 4
    assert sleep.delays == [0.5, 1, 2]


async def test_revoke_retries_5xx(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(REVOKE_URL).mock(side_effect=[httpx.Response(502), httpx.Response(200)])
    await client.revoke(refresh_token=OLD_REFRESH)
    assert route.call_count == 2
    assert sleep.delays == [0.5]


# --- API calls ------------------------------------------------------------------------------


async def test_organisation_429_waits_retry_after(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2", "X-Rate-Limit-Problem": "minute"}),
            httpx.Response(200, json=organisation_json()),
        ]
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation.name == "Harbour Cafés Ltd"
    assert route.call_count == 2
    assert sleep.delays == [2]


async def test_organisation_429_with_long_retry_after_fails_at_once(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(
        429, headers={"Retry-After": "40000", "X-Rate-Limit-Problem": "day"}
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert caught.value.retryable
    assert "daily" in caught.value.message
    assert "about 12 hours" in caught.value.message
    assert route.call_count == 1
    assert sleep.delays == []


async def test_organisation_429_every_time_gives_up_retryable(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(429, headers={"Retry-After": "3"})
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert caught.value.retryable
    assert route.call_count == 4
    assert sleep.delays == [3, 3, 3]


async def test_organisation_5xx_and_timeouts_retry_then_fail(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).mock(
        side_effect=[
            httpx.Response(500),
            httpx.ConnectTimeout("slow"),
            httpx.ConnectError("refused"),
            httpx.Response(503),
        ]
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert caught.value.retryable
    assert caught.value.message.startswith("Xero is not answering right now")
    assert route.call_count == 4
    assert sleep.delays == [0.5, 1, 2]


async def test_organisation_recovers_after_a_timeout(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    xero_api.get(ORGANISATION_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=organisation_json())]
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation.status == "ACTIVE"
    assert sleep.delays == [0.5]


@pytest.mark.parametrize("status", [401, 403])
async def test_organisation_refused_is_connection_gone(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep, status: int
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(status, json={"Title": "Forbidden"})
    with pytest.raises(XeroConnectionGone):
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert route.call_count == 1
    assert sleep.delays == []


async def test_organisation_other_4xx_is_not_retryable(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(400, json={"Message": "bad"})
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert not caught.value.retryable
    assert route.call_count == 1
