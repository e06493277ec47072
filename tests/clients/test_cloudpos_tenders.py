"""`CloudPosClient.tenders`: a store's payment types, read as defensively as its stores."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from bot.clients.cloudpos import CloudPosClient
from bot.domain.errors import CloudPosKeyRejected, ExternalServiceError, InvalidRequest, NotFound
from bot.domain.ports import Tender
from tests.clients.cloudpos_fixtures import KEY, OTHER_KEY, FakeTime

PATH = "/api/stores/HC01/tenders"


def tender_json(tender_id: str = "T1", name: str = "Cash", kind: str = "Cash") -> dict[str, str]:
    return {"id": tender_id, "name": name, "type": kind}


async def test_tenders_are_mapped_in_order(client: CloudPosClient, api: respx.MockRouter) -> None:
    route = api.get(PATH).respond(
        json=[
            {**tender_json(), "extra": 1},
            tender_json("T2", "Card (EFTPOS)", "Card"),
            tender_json(" T3 ", "  Gift card ", " GiftCard "),
        ]
    )

    tenders = await client.tenders(KEY, "HC01")

    assert tenders == [
        Tender(id="T1", name="Cash", type="Cash"),
        Tender(id="T2", name="Card (EFTPOS)", type="Card"),
        Tender(id="T3", name="Gift card", type="GiftCard"),
    ]
    request = route.calls.last.request
    assert request.headers["Authorization"] == KEY
    assert request.headers["Accept"] == "application/json"


async def test_no_tenders(client: CloudPosClient, api: respx.MockRouter) -> None:
    api.get(PATH).respond(json=[])

    assert await client.tenders(KEY, "HC01") == []


async def test_store_code_is_percent_encoded_under_the_base_path(fake_time: FakeTime) -> None:
    with respx.mock() as router:
        route = router.get(url__regex=r"^https://pos\.test/tenant/api/stores/.*").respond(json=[])
        async with CloudPosClient(
            base_url="https://pos.test/tenant", sleep=fake_time.sleep, clock=fake_time.clock
        ) as cloudpos:
            await cloudpos.tenders(KEY, " A/B C?#%é ")

    assert route.call_count == 1
    assert route.calls.last.request.url.raw_path == (
        b"/tenant/api/stores/A%2FB%20C%3F%23%25%C3%A9/tenders"
    )


@pytest.mark.parametrize("code", ["", "   ", "C" * 101])
async def test_unusable_store_code_is_refused_before_sending(
    client: CloudPosClient, api: respx.MockRouter, code: str
) -> None:
    route = api.get(url__regex=r".*").respond(json=[])

    with pytest.raises(InvalidRequest) as caught:
        await client.tenders(KEY, code)

    assert route.call_count == 0
    assert caught.value.field == "store_code"


async def test_longest_store_code_is_sent(client: CloudPosClient, api: respx.MockRouter) -> None:
    route = api.get(f"/api/stores/{'C' * 100}/tenders").respond(json=[])

    await client.tenders(KEY, "C" * 100)

    assert route.call_count == 1


async def test_401_rejects_key_without_retry(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get(PATH).respond(401, json={"message": "API key not valid or not active"})

    with pytest.raises(CloudPosKeyRejected) as caught:
        await client.tenders(KEY, "HC01")

    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert "ticked Active" in caught.value.message


async def test_404_says_the_store_is_gone_without_retry(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get(PATH).respond(404, json={"message": "Store not found"})

    with pytest.raises(NotFound) as caught:
        await client.tenders(KEY, "HC01")

    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert caught.value.field == "store_code"
    assert "Store HC01 is not in Cloud POS any more" in caught.value.message


async def test_404_of_the_store_list_is_still_a_failure_not_a_missing_store(
    client: CloudPosClient, api: respx.MockRouter
) -> None:
    api.get("/api/stores").respond(404)

    with pytest.raises(ExternalServiceError) as caught:
        await client.stores(KEY)

    assert "HTTP 404" in caught.value.message


@pytest.mark.parametrize("status", [400, 403, 418])
async def test_other_4xx_is_not_retried(
    client: CloudPosClient, api: respx.MockRouter, status: int
) -> None:
    route = api.get(PATH).respond(status)

    with pytest.raises(ExternalServiceError) as caught:
        await client.tenders(KEY, "HC01")

    assert route.call_count == 1
    assert caught.value.retryable is False
    assert f"HTTP {status}" in caught.value.message
    assert "payment types of store HC01" in caught.value.message


async def test_429_honours_retry_after(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get(PATH)
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json=[tender_json()]),
    ]

    tenders = await client.tenders(KEY, "HC01")

    assert [tender.id for tender in tenders] == ["T1"]
    assert route.call_count == 2
    assert fake_time.sleeps == [3.0]


async def test_429_forever_gives_up(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get(PATH).respond(429, headers={"Retry-After": "2"})

    with pytest.raises(ExternalServiceError) as caught:
        await client.tenders(KEY, "HC01")

    assert route.call_count == 4
    assert fake_time.sleeps == [2.0, 2.0, 2.0]
    assert caught.value.retryable is True
    assert "rate limiting" in caught.value.message


async def test_5xx_then_success(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get(PATH)
    route.side_effect = [httpx.Response(503), httpx.Response(200, json=[tender_json()])]

    assert len(await client.tenders(KEY, "HC01")) == 1
    assert route.call_count == 2
    assert fake_time.sleeps == [1.0]


async def test_shares_the_keys_one_per_second_pacing(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    api.get("/api/stores").respond(json=[])
    api.get(url__regex=r".*/tenders$").respond(json=[])

    await client.stores(KEY)
    await client.tenders(KEY, "HC01")
    await client.tenders(OTHER_KEY, "HC01")
    await client.tenders(KEY, "HC02")

    assert fake_time.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]


@pytest.mark.parametrize(
    "content", [b"<html>Service unavailable</html>", b"", b'[{"id": "T1", ', b"\xff\xfe\x00"]
)
async def test_malformed_json(
    client: CloudPosClient, api: respx.MockRouter, content: bytes
) -> None:
    route = api.get(PATH).respond(200, content=content)

    with pytest.raises(ExternalServiceError) as caught:
        await client.tenders(KEY, "HC01")

    assert route.call_count == 1
    assert caught.value.retryable is False
    assert "could not read" in caught.value.message


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"tenders": []}, "expected a list"),
        ("Cash", "expected a list"),
        (7, "expected a list"),
        (["T1"], "entry 1 is not an object"),
        ([None], "entry 1 is not an object"),
        ([{"name": "Cash", "type": "Cash"}], "entry 1 has no text"),
        ([{"id": "T1", "type": "Cash"}], "entry 1 has no text"),
        ([{"id": "T1", "name": "Cash"}], "entry 1 has no text"),
        ([{"id": 1, "name": "Cash", "type": "Cash"}], "entry 1 has no text"),
        ([{"id": "T1", "name": None, "type": "Cash"}], "entry 1 has no text"),
        ([tender_json(), {"id": "T2", "name": "Card", "type": ["Card"]}], "entry 2 has no text"),
        ([tender_json(tender_id="  ")], "entry 1's 'id' is empty"),
        ([tender_json(tender_id="T" * 65)], "over 64 characters"),
        ([tender_json(), tender_json(name="Cash again")], "the same 'id'"),
    ],
)
async def test_wrong_shape(
    client: CloudPosClient, api: respx.MockRouter, body: object, detail: str
) -> None:
    api.get(PATH).respond(json=body)

    with pytest.raises(ExternalServiceError) as caught:
        await client.tenders(KEY, "HC01")

    assert caught.value.retryable is False
    assert "could not read" in caught.value.message
    assert "payment types of store HC01" in caught.value.message
    assert detail in caught.value.message


async def test_long_names_and_types_are_clipped_and_the_longest_id_kept(
    client: CloudPosClient, api: respx.MockRouter
) -> None:
    api.get(PATH).respond(json=[tender_json("I" * 64, "N" * 250, "T" * 60)])

    (tender,) = await client.tenders(KEY, "HC01")

    assert tender.id == "I" * 64
    assert tender.name == "N" * 199 + "…"
    assert tender.type == "T" * 49 + "…"


async def test_reads_at_most_200_tenders_and_says_so(
    client: CloudPosClient, api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    body: list[object] = [tender_json(f"T{n}", f"Tender {n}") for n in range(1, 201)]
    api.get(PATH).respond(json=[*body, None, "not even an object"])

    tenders = await client.tenders(KEY, "HC01")

    assert len(tenders) == 200
    assert tenders[-1].id == "T200"
    assert "HC01: 202 tenders, reading 200" in caplog.text


async def test_key_never_leaks_into_errors_or_logs(
    client: CloudPosClient, api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api.get(PATH).side_effect = [
        httpx.Response(401),
        httpx.Response(404, json={"message": KEY}),
        httpx.Response(429),
        httpx.Response(500),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
        httpx.Response(200, content=b"not json"),
        httpx.Response(200, json=[{"id": KEY}]),
        httpx.Response(200, json=[tender_json(KEY * 3)]),
        httpx.Response(418, text=KEY),
    ]

    errors: list[BaseException] = []
    for _ in range(7):
        try:
            await client.tenders(KEY, "HC01")
        except (CloudPosKeyRejected, NotFound, ExternalServiceError) as exc:
            errors.append(exc)

    assert len(errors) == 7
    assert "retrying" in caplog.text
    for error in errors:
        assert KEY not in str(error)
        assert KEY not in repr(error)
        assert KEY not in str(error.__cause__)
    assert KEY not in caplog.text
    assert KEY not in str(vars(client))
