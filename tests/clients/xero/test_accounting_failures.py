"""What every accounting read shares with the other Xero API calls: 401/403 as a lost
connection, 429 and 5xx retries, the organisation id check, the per-organisation limit on
concurrent calls, and no token in any error or log line.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.domain.errors import DomainError, ExternalServiceError, InvalidRequest, XeroConnectionGone
from tests.clients.xero.accounting_fixtures import (
    ACCOUNTS_URL,
    CALLS,
    GOOD_ANSWERS,
    TAX_RATES_URL,
)
from tests.clients.xero.xero_fixtures import (
    ACCESS,
    TENANT_A,
    TENANT_B,
    FakeSleep,
    assert_no_secrets,
)

# --- what every call shares -----------------------------------------------------------------


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("status", [401, 403])
async def test_refused_is_connection_gone(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep, name: str, status: int
) -> None:
    url, call = CALLS[name]
    route = xero_api.get(url).respond(status, json={"Title": "Unauthorized"})
    with pytest.raises(XeroConnectionGone) as caught:
        await call(client, TENANT_A)
    assert "connect to Xero again" in caught.value.message
    assert route.call_count == 1
    assert sleep.delays == []


@pytest.mark.parametrize("name", list(CALLS))
async def test_429_waits_retry_after_then_succeeds(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep, name: str
) -> None:
    url, call = CALLS[name]
    route = xero_api.get(url).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2", "X-Rate-Limit-Problem": "minute"}),
            httpx.Response(200, json=GOOD_ANSWERS[name]),
        ]
    )
    await call(client, TENANT_A)
    assert route.call_count == 2
    assert sleep.delays == [2]


async def test_429_with_a_long_wait_fails_at_once(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ACCOUNTS_URL).respond(
        429, headers={"Retry-After": "40000", "X-Rate-Limit-Problem": "day"}
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.accounts(access_token=ACCESS, tenant_id=TENANT_A)
    assert caught.value.retryable
    assert "daily" in caught.value.message
    assert "chart of accounts" in caught.value.message
    assert route.call_count == 1
    assert sleep.delays == []


@pytest.mark.parametrize("name", list(CALLS))
async def test_503_is_retried_then_gives_up_retryable(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep, name: str
) -> None:
    url, call = CALLS[name]
    route = xero_api.get(url).respond(503, text="Service Unavailable")
    with pytest.raises(ExternalServiceError) as caught:
        await call(client, TENANT_A)
    assert caught.value.retryable
    assert caught.value.message.startswith("Xero is not answering right now")
    assert route.call_count == 4
    assert sleep.delays == [0.5, 1, 2]


async def test_a_503_then_an_answer_succeeds(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    xero_api.get(TAX_RATES_URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(
                200,
                json={"TaxRates": [{"Name": "No VAT", "TaxType": "NONE", "EffectiveRate": 0}]},
            ),
        ]
    )
    rates = await client.tax_rates(access_token=ACCESS, tenant_id=TENANT_A)
    assert [rate.tax_type for rate in rates] == ["NONE"]
    assert sleep.delays == [0.5]


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("tenant_id", ["", "tenant with spaces", "a\nb"])
async def test_bad_tenant_id_is_refused_without_a_request(
    client: XeroClient, xero_api: respx.MockRouter, name: str, tenant_id: str
) -> None:
    url, call = CALLS[name]
    route = xero_api.get(url).respond(json=GOOD_ANSWERS[name])
    with pytest.raises(InvalidRequest):
        await call(client, tenant_id)
    assert route.call_count == 0


async def test_reads_share_the_organisation_s_five_slots(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    release = asyncio.Event()
    in_flight = {TENANT_A: 0, TENANT_B: 0}

    async def answer(request: httpx.Request) -> httpx.Response:
        tenant = request.headers["xero-tenant-id"]
        in_flight[tenant] += 1
        try:
            if tenant == TENANT_A:
                await release.wait()
            return httpx.Response(200, json={"Accounts": [], "TaxRates": []})
        finally:
            in_flight[tenant] -= 1

    xero_api.get(ACCOUNTS_URL).mock(side_effect=answer)
    xero_api.get(TAX_RATES_URL).mock(side_effect=answer)
    held = [
        asyncio.create_task(client.accounts(access_token=ACCESS, tenant_id=TENANT_A))
        for _ in range(5)
    ]
    waiting = asyncio.create_task(client.tax_rates(access_token=ACCESS, tenant_id=TENANT_A))
    for _ in range(50):
        await asyncio.sleep(0)
    assert in_flight[TENANT_A] == 5
    assert not waiting.done()
    other = await asyncio.wait_for(
        client.tax_rates(access_token=ACCESS, tenant_id=TENANT_B), timeout=2
    )
    assert other == []
    release.set()
    assert await asyncio.gather(*held, waiting) == [[]] * 6


async def test_no_token_in_errors_or_logs(
    client: XeroClient, xero_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[DomainError] = []
    answers = [
        httpx.Response(401, text=ACCESS),
        httpx.Response(403, json={"Detail": ACCESS}),
        httpx.Response(400, json={"Message": ACCESS}),
        httpx.Response(429, headers={"Retry-After": "99999", "X-Rate-Limit-Problem": ACCESS}),
        httpx.Response(200, text=f"not json {ACCESS}"),
        httpx.Response(200, json={ACCESS: []}),
        httpx.ConnectError(f"refused {ACCESS}"),
    ]
    for url, call in CALLS.values():
        for answer in answers:
            xero_api.get(url).mock(side_effect=[answer] * 4)
            with pytest.raises(DomainError) as caught:
                await call(client, TENANT_A)
            errors.append(caught.value)
        xero_api.get(url).respond(
            json={key: [{"Name": ACCESS, "AccountID": ACCESS}] for key in ("Accounts", "TaxRates")}
            | {"TrackingCategories": [{"Name": ACCESS}], "Contacts": [{"Name": ACCESS}]}
        )
        try:
            await call(client, TENANT_A)
        except DomainError as exc:
            errors.append(exc)
    assert len(errors) >= len(CALLS) * len(answers)
    for error in errors:
        assert_no_secrets(str(error))
        assert_no_secrets(repr(error))
    assert_no_secrets(caplog.text)
    assert_no_secrets(repr(client))
