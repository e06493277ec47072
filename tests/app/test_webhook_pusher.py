"""The webhook pusher: one lease holder pushes at a time, in the background while `serve`
runs, and only when a webhook is configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clients.webhook import WebhookClient
from bot.domain import Dependencies
from bot.domain import jobs as domain_jobs
from bot.settings import Settings
from bot.webhooks import JOB, LEASE, Pusher, pushing
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine
from tests.conftest import Clock, make_deps
from tests.domain.test_sync_webhook import SECRET, Receiver, add_events, events, receiver

__all__ = ["receiver"]  # the fixture, shared


@pytest.fixture
async def client(receiver: Receiver) -> AsyncIterator[WebhookClient]:
    webhook = WebhookClient(url=receiver.url, secret=SECRET, timeout=5)
    yield webhook
    await webhook.aclose()


async def eventually_delivered(receiver: Receiver, count: int) -> None:
    for _ in range(200):
        if len(receiver.accepted) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(receiver.accepted)} of {count} events arrived")


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_pushers_racing_deliver_each_event_once(
    database_url: str,
    deps: Dependencies,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    receiver: Receiver,
    client: WebhookClient,
) -> None:
    """Two replicas, each with its own engine, run rounds at once; now and then the lease
    runs out and they race for it again."""
    other: AsyncEngine = create_engine(database_url)
    try:
        one = Pusher(deps, client, holder="replica-1")
        two = Pusher(make_deps(other, clock, cloudpos, emulator), client, holder="replica-2")
        holders = set()
        for turn in range(8):
            await add_events(deps, "A", "B", "C", "A")
            reports = await asyncio.gather(one.round(), two.round())
            winners = {
                pusher.holder
                for pusher, report in zip((one, two), reports, strict=True)
                if report is not None
            }
            assert len(winners) == 1, f"turn {turn}: {winners} pushed at once"
            holders |= winners
            if turn % 2:
                clock.advance(seconds=LEASE.total_seconds() + 1)
        for _ in range(20):
            if len(receiver.accepted) == 32:
                break
            await asyncio.gather(one.round(), two.round())
    finally:
        await other.dispose()

    ids = [event["id"] for event in receiver.accepted]
    assert sorted(ids) == list(range(1, 33))  # each event once, none lost
    for store in "ABC":
        assert receiver.ids(store) == sorted(receiver.ids(store))
    assert all(event.delivered_at is not None for event in await events(deps))
    assert receiver.refused == []
    assert holders  # (which replica won each race is up to PostgreSQL)


async def test_the_pusher_pushes_in_the_background_and_gives_the_lease_back(
    deps: Dependencies, receiver: Receiver, client: WebhookClient
) -> None:
    pusher = Pusher(deps, client, poll=0.05, holder="replica-1")
    pusher.start()
    try:
        await add_events(deps, "A", "A", "B")
        await eventually_delivered(receiver, 3)
        await add_events(deps, "A")
        await eventually_delivered(receiver, 4)
    finally:
        await pusher.stop()
    assert receiver.ids("A") == [1, 2, 4]
    assert await domain_jobs.claim(deps, job=JOB, holder="replica-2", lease_for=LEASE)


async def test_a_pusher_without_the_lease_pushes_nothing(
    deps: Dependencies, receiver: Receiver, client: WebhookClient
) -> None:
    assert await domain_jobs.claim(deps, job=JOB, holder="elsewhere", lease_for=LEASE)
    await add_events(deps, "A")
    assert await Pusher(deps, client, holder="replica-1").round() is None
    assert receiver.seen == []


async def test_pushing_runs_only_with_a_webhook_configured(
    deps: Dependencies, receiver: Receiver
) -> None:
    async with pushing(deps, Settings()) as nothing:
        assert nothing is None
    await add_events(deps, "B")
    settings = Settings(sync_webhook_url=receiver.url, sync_webhook_secret=SECRET)
    async with pushing(deps, settings) as pusher:
        assert pusher is not None
        await eventually_delivered(receiver, 1)
    assert receiver.ids("B") == [1]
    assert receiver.refused == []
