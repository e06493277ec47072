"""GET /api/v1/events: the store events in order, a page at a time from `after`, each once,
also while new ones are being written."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from bot import domain
from bot.domain import Dependencies
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.conftest import Clock
from tests.domain.posting_helpers import connected, ready_store, set_up
from tests.domain_helpers import AGENT
from tests.handlers.api.api_helpers import ok, problem

pytestmark = pytest.mark.asyncio


async def pull(api: httpx.AsyncClient, *, after: int = 0, limit: int) -> list[dict[str, Any]]:
    pulled: list[dict[str, Any]] = []
    while True:
        page = ok(await api.get("/api/v1/events", params={"after": after, "limit": limit}))
        assert set(page) == {"events", "last_id"}
        if not page["events"]:
            assert page["last_id"] == after
            return pulled
        assert len(page["events"]) <= limit
        assert page["last_id"] == page["events"][-1]["id"]
        pulled += page["events"]
        after = page["last_id"]


async def test_an_empty_feed(api: httpx.AsyncClient) -> None:
    assert ok(await api.get("/api/v1/events")) == {"events": [], "last_id": 0}
    assert ok(await api.get("/api/v1/events?after=41")) == {"events": [], "last_id": 41}


async def test_events_come_in_order_with_what_the_sync_service_needs(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    store = await ready_store(web_deps, cloudpos, emulator)
    clock.advance(minutes=1)
    await domain.organisations.disconnect(
        web_deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id,
        actor=AGENT,
    )  # fmt: skip

    page = ok(await api.get("/api/v1/events"))

    events = page["events"]
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5]
    assert page["last_id"] == 5
    assert [e["type"] for e in events[:2]] == ["store.setup_changed", "store.ready"]
    assert sorted((e["type"], e["store"]["store_code"]) for e in events[2:]) == [
        ("store.disconnected", "S001"),
        ("store.disconnected", "S002"),
        ("store.not_ready", "S001"),
    ]
    ready = events[1]
    assert set(ready) == {"id", "type", "occurred_at", "store", "data"}
    assert ready["store"] == {"group": "acme", "store_code": "S001"}
    assert ready["data"] == {"tenant_id": store.organisation.tenant_id}
    assert ready["occurred_at"].endswith("Z")
    assert datetime.fromisoformat(events[-1]["occurred_at"]) == clock()

    for limit in (1, 2, 3, 5):
        assert await pull(api, limit=limit) == events, limit
    assert await pull(api, after=2, limit=2) == events[2:]
    assert ok(await api.get("/api/v1/events?after=5")) == {"events": [], "last_id": 5}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=-1", "after"),
        ("after=one", "after"),
        ("after=1.5", "after"),
        ("after=", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
    ],
)
async def test_a_bad_query_is_400_naming_the_field(
    api: httpx.AsyncClient, query: str, field: str
) -> None:
    body = problem(await api.get(f"/api/v1/events?{query}"), 400)
    assert body["field"] == field


STORES = 6


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_polling_while_stores_are_marked_ready_misses_and_repeats_nothing(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    store = await connected(web_deps, cloudpos, emulator, stores=STORES)
    for code in store.codes:
        await set_up(web_deps, emulator, store, code)
    done = asyncio.Event()

    async def poller(limit: int) -> list[dict[str, Any]]:
        pulled: list[dict[str, Any]] = []
        after = 0
        while True:
            finished = done.is_set()
            page = ok(await api.get("/api/v1/events", params={"after": after, "limit": limit}))
            pulled += page["events"]
            after = page["last_id"]
            if finished and not page["events"]:
                return pulled
            await asyncio.sleep(0)

    async def writers() -> None:
        await asyncio.gather(
            *(
                domain.posting.mark_ready(
                    web_deps, customer_id=store.customer_id, store_code=code, actor=AGENT
                )
                for code in store.codes
            )
        )
        done.set()

    _, *pulled_by = await asyncio.gather(writers(), poller(1), poller(4))

    for pulled in pulled_by:
        assert [e["id"] for e in pulled] == list(range(1, 2 * STORES + 1))
        ready = sorted(e["store"]["store_code"] for e in pulled if e["type"] == "store.ready")
        assert ready == sorted(store.codes)


async def test_a_reader_behind_the_ninety_days_kept_gets_410_saying_where_to_go_on(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    store = await ready_store(web_deps, cloudpos, emulator)
    clock.advance(days=89)
    await set_up(web_deps, emulator, store, "S002")
    clock.advance(days=2)
    assert await domain.sync_events.prune(web_deps) == 2

    gone = await api.get("/api/v1/events", params={"after": 1})

    body = problem(gone, 410)
    assert body["last_id"] == 2
    assert "kept 90 days" in body["detail"]
    assert [event["id"] for event in ok(await api.get("/api/v1/events"))["events"]] == [3]
