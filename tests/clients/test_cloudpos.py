from __future__ import annotations

import asyncio
import itertools
import logging

import httpx
import pytest
import respx

from bot.clients.cloudpos import CloudPosClient
from bot.domain.errors import CloudPosKeyRejected, ExternalServiceError, InvalidRequest
from bot.domain.ports import CloudPosStore, Licence
from tests.clients.cloudpos_fixtures import BASE_URL, KEY, OTHER_KEY, FakeTime


def licence_json(licence: str = "ProPlus") -> dict[str, str]:
    return {"group": "Harbour Cafés", "licence": licence}


async def test_licence_is_read(client: CloudPosClient, api: respx.MockRouter) -> None:
    api.get("/api/licence").respond(json=licence_json())

    licence = await client.licence(KEY)

    assert licence == Licence(group="Harbour Cafés", licence="ProPlus")
    assert licence.is_pro_plus


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ProPlus", True),
        ("proplus", True),
        ("Pro Plus", True),
        ("pro-plus", True),
        ("PRO_PLUS", True),
        (" Pro  Plus ", True),
        ("Pro", False),
        ("Plus", False),
        ("Lite", False),
        ("ProPlusTrial", False),
        ("", False),
    ],
)
def test_is_pro_plus(value: str, expected: bool) -> None:
    assert Licence(group="g", licence=value).is_pro_plus is expected


async def test_stores_are_mapped(client: CloudPosClient, api: respx.MockRouter) -> None:
    api.get("/api/stores").respond(
        json=[
            {"storeClientCode": "HC01", "name": "Harbour Quay", "active": True, "extra": 1},
            {"storeClientCode": "HC02", "name": "Old Town", "active": False},
        ]
    )

    stores = await client.stores(KEY)

    assert stores == [
        CloudPosStore(code="HC01", name="Harbour Quay", active=True),
        CloudPosStore(code="HC02", name="Old Town", active=False),
    ]


async def test_empty_store_list(client: CloudPosClient, api: respx.MockRouter) -> None:
    api.get("/api/stores").respond(json=[])

    assert await client.stores(KEY) == []


async def test_request_headers(client: CloudPosClient, api: respx.MockRouter) -> None:
    route = api.get("/api/licence").respond(json=licence_json())

    await client.licence(KEY)

    request = route.calls.last.request
    assert request.headers["Authorization"] == KEY
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("xero-bot/")


async def test_base_url_path_is_kept(fake_time: FakeTime) -> None:
    with respx.mock() as router:
        route = router.get("https://pos.test/tenant/api/stores").respond(json=[])
        async with CloudPosClient(
            base_url="https://pos.test/tenant", sleep=fake_time.sleep, clock=fake_time.clock
        ) as cloudpos:
            await cloudpos.stores(KEY)
    assert route.call_count == 1


async def test_401_rejects_key_without_retry(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get("/api/licence").respond(401, json={"error": "unauthorised"})

    with pytest.raises(CloudPosKeyRejected) as caught:
        await client.licence(KEY)

    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert "not valid or not active" in caught.value.message
    assert "ticked Active" in caught.value.message


async def test_429_honours_retry_after(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get("/api/licence")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json=licence_json()),
    ]

    licence = await client.licence(KEY)

    assert licence.group == "Harbour Cafés"
    assert route.call_count == 2
    assert fake_time.sleeps == [3.0]


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({}, 1.0),
        ({"Retry-After": "soon"}, 1.0),
        ({"Retry-After": "-5"}, 1.0),
        ({"Retry-After": "3600"}, 30.0),
    ],
)
async def test_429_retry_after_defaults_and_cap(
    api: respx.MockRouter,
    fake_time: FakeTime,
    headers: dict[str, str],
    expected_wait: float,
) -> None:
    route = api.get("/api/licence")
    route.side_effect = [
        httpx.Response(429, headers=headers),
        httpx.Response(200, json=licence_json()),
    ]
    async with CloudPosClient(
        base_url=BASE_URL, min_interval=0.0, sleep=fake_time.sleep, clock=fake_time.clock
    ) as cloudpos:
        await cloudpos.licence(KEY)

    assert fake_time.sleeps == [expected_wait]


async def test_429_holds_back_later_calls_with_same_key(
    api: respx.MockRouter, fake_time: FakeTime
) -> None:
    api.get("/api/licence").respond(429, headers={"Retry-After": "5"})
    api.get("/api/stores").respond(json=[])
    async with CloudPosClient(
        base_url=BASE_URL, max_attempts=1, sleep=fake_time.sleep, clock=fake_time.clock
    ) as cloudpos:
        with pytest.raises(ExternalServiceError):
            await cloudpos.licence(KEY)
        assert fake_time.sleeps == []

        await cloudpos.stores(OTHER_KEY)
        assert fake_time.sleeps == []

        await cloudpos.stores(KEY)
        assert fake_time.sleeps == [5.0]


async def test_429_forever_gives_up(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get("/api/stores").respond(429, headers={"Retry-After": "2"})

    with pytest.raises(ExternalServiceError) as caught:
        await client.stores(KEY)

    assert route.call_count == 4
    assert fake_time.sleeps == [2.0, 2.0, 2.0]
    assert caught.value.retryable is True
    assert "rate limiting" in caught.value.message
    assert "try again in a minute" in caught.value.message


async def test_max_attempts_is_respected(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.get("/api/stores").respond(429)
    async with CloudPosClient(
        base_url=BASE_URL, max_attempts=2, sleep=fake_time.sleep, clock=fake_time.clock
    ) as cloudpos:
        with pytest.raises(ExternalServiceError):
            await cloudpos.stores(KEY)

    assert route.call_count == 2


async def test_5xx_then_success(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get("/api/stores")
    route.side_effect = [
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(200, json=[{"storeClientCode": "A", "name": "A", "active": True}]),
    ]

    stores = await client.stores(KEY)

    assert [store.code for store in stores] == ["A"]
    assert route.call_count == 3
    # The 0.5 s backoff is shorter than the one-per-second limit, which wins.
    assert fake_time.sleeps == [1.0, 1.0]


async def test_5xx_forever_backs_off_exponentially(
    api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get("/api/stores").respond(500)
    async with CloudPosClient(
        base_url=BASE_URL, min_interval=0.0, sleep=fake_time.sleep, clock=fake_time.clock
    ) as cloudpos:
        with pytest.raises(ExternalServiceError) as caught:
            await cloudpos.stores(KEY)

    assert route.call_count == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert caught.value.retryable is True
    assert "not answering right now" in caught.value.message
    assert "try again in a few minutes" in caught.value.message


async def test_backoff_is_bounded(api: respx.MockRouter, fake_time: FakeTime) -> None:
    api.get("/api/stores").respond(503)
    async with CloudPosClient(
        base_url=BASE_URL,
        min_interval=0.0,
        max_attempts=8,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    ) as cloudpos:
        with pytest.raises(ExternalServiceError):
            await cloudpos.stores(KEY)

    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


async def test_timeout_is_retried_then_reported(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get("/api/licence").mock(side_effect=httpx.ReadTimeout)

    with pytest.raises(ExternalServiceError) as caught:
        await client.licence(KEY)

    assert route.call_count == 4
    assert len(fake_time.sleeps) == 3
    assert caught.value.retryable is True
    assert "did not answer in time" in caught.value.message
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


async def test_connection_error_then_success(client: CloudPosClient, api: respx.MockRouter) -> None:
    route = api.get("/api/licence")
    route.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, json=licence_json())]

    licence = await client.licence(KEY)

    assert licence.licence == "ProPlus"
    assert route.call_count == 2


async def test_connection_error_forever(client: CloudPosClient, api: respx.MockRouter) -> None:
    api.get("/api/stores").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(ExternalServiceError) as caught:
        await client.stores(KEY)

    assert caught.value.retryable is True
    assert "could not reach it" in caught.value.message


@pytest.mark.parametrize("status", [400, 403, 404, 418])
async def test_other_4xx_is_not_retried(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime, status: int
) -> None:
    route = api.get("/api/stores").respond(status)

    with pytest.raises(ExternalServiceError) as caught:
        await client.stores(KEY)

    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert caught.value.retryable is False
    assert f"HTTP {status}" in caught.value.message


@pytest.mark.parametrize(
    "content",
    [b"<html>Service unavailable</html>", b"", b'{"group": "x", ', b"\xff\xfe\x00"],
)
async def test_malformed_json(
    client: CloudPosClient, api: respx.MockRouter, content: bytes
) -> None:
    route = api.get("/api/licence").respond(200, content=content)

    with pytest.raises(ExternalServiceError) as caught:
        await client.licence(KEY)

    assert route.call_count == 1
    assert caught.value.retryable is False
    assert "could not read" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        [],
        "ProPlus",
        None,
        {},
        {"group": "g"},
        {"licence": "ProPlus"},
        {"group": 7, "licence": "ProPlus"},
        {"group": "g", "licence": None},
    ],
)
async def test_licence_wrong_shape(
    client: CloudPosClient, api: respx.MockRouter, body: object
) -> None:
    api.get("/api/licence").respond(json=body)

    with pytest.raises(ExternalServiceError) as caught:
        await client.licence(KEY)

    assert caught.value.retryable is False
    assert "could not read" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"stores": []},
        "HC01",
        None,
        ["HC01"],
        [None],
        [{"name": "n", "active": True}],
        [{"storeClientCode": "c", "active": True}],
        [{"storeClientCode": "c", "name": "n"}],
        [{"storeClientCode": 12, "name": "n", "active": True}],
        [{"storeClientCode": "c", "name": "n", "active": "yes"}],
        [{"storeClientCode": "c", "name": "n", "active": 1}],
        [
            {"storeClientCode": "ok", "name": "n", "active": True},
            {"storeClientCode": "c", "name": ["n"], "active": True},
        ],
    ],
)
async def test_stores_wrong_shape(
    client: CloudPosClient, api: respx.MockRouter, body: object
) -> None:
    api.get("/api/stores").respond(json=body)

    with pytest.raises(ExternalServiceError) as caught:
        await client.stores(KEY)

    assert caught.value.retryable is False
    assert "could not read" in caught.value.message


@pytest.mark.parametrize("bad_key", ["has space", "line\nbreak", "clé", " padded"])
async def test_implausible_key_is_refused_before_sending(
    client: CloudPosClient, api: respx.MockRouter, bad_key: str
) -> None:
    route = api.get("/api/licence").respond(json=licence_json())

    with pytest.raises(InvalidRequest) as caught:
        await client.licence(bad_key)

    assert route.call_count == 0
    assert bad_key not in str(caught.value)


async def test_same_key_waits_between_calls(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    api.get("/api/licence").respond(json=licence_json())
    api.get("/api/stores").respond(json=[])

    await client.licence(KEY)
    await client.stores(KEY)

    assert fake_time.sleeps == [pytest.approx(1.0)]


async def test_no_wait_once_interval_has_passed(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    api.get("/api/stores").respond(json=[])

    await client.stores(KEY)
    fake_time.now += 1.5
    await client.stores(KEY)

    assert fake_time.sleeps == []


async def test_different_keys_do_not_wait_for_each_other(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get("/api/licence").respond(json=licence_json())

    await client.licence(KEY)
    await client.licence(OTHER_KEY)
    assert fake_time.sleeps == []

    await client.licence(KEY)
    assert fake_time.sleeps == [pytest.approx(1.0)]
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        KEY,
        OTHER_KEY,
        KEY,
    ]


async def test_concurrent_calls_with_same_key_are_spaced(
    client: CloudPosClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    sent_at: dict[str, list[float]] = {KEY: [], OTHER_KEY: []}

    def record(request: httpx.Request) -> httpx.Response:
        sent_at[request.headers["Authorization"]].append(fake_time.now)
        return httpx.Response(200, json=[])

    api.get("/api/stores").mock(side_effect=record)

    await asyncio.gather(
        client.stores(KEY),
        client.stores(KEY),
        client.stores(OTHER_KEY),
        client.stores(KEY),
    )

    times = sent_at[KEY]
    assert len(times) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    # Only the same-key callers slept; the other key went out before the last of them.
    assert fake_time.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    assert len(sent_at[OTHER_KEY]) == 1
    assert sent_at[OTHER_KEY][0] < times[-1]


async def test_key_never_leaks_into_errors_or_logs(
    client: CloudPosClient,
    api: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    api.get("/api/licence").respond(401)
    stores = api.get("/api/stores")
    stores.side_effect = [
        httpx.Response(429),
        httpx.Response(500),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
        httpx.Response(200, content=b"not json"),
        httpx.Response(200, json=[{"storeClientCode": KEY}]),
        httpx.Response(404),
    ]

    errors: list[BaseException] = []
    for call in (client.licence, client.stores, client.stores, client.stores, client.stores):
        try:
            await call(KEY)
        except (CloudPosKeyRejected, ExternalServiceError) as exc:
            errors.append(exc)

    assert len(errors) == 5
    assert "retrying" in caplog.text
    for error in errors:
        assert KEY not in str(error)
        assert KEY not in repr(error)
        assert KEY not in str(error.__cause__)
    assert KEY not in caplog.text
    assert KEY not in repr(client)
    assert KEY not in str(vars(client))
