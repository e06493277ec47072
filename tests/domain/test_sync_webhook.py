"""Store events pushed to a real webhook on loopback, which checks every signature itself:
at least once, in order per store, retried with backoff, abandoned after a day."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.clients.webhook import WebhookClient
from bot.domain import Dependencies, sync_events
from bot.domain.sync_events import DeliveryReport
from storage.engine import transaction
from storage.models import AuditEvent, SyncEvent
from tests.browser import free_port, free_socket, serve
from tests.conftest import Clock

SECRET = "whsec-test-0123456789"
STORES = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
RAISE = 0
"""An `answer` that makes the receiver's handler raise (uvicorn answers 500)."""


class Receiver:
    """The sync service's webhook: it checks the signature with its own code (constant-time,
    timestamp within five minutes) and records what reached it, accepted or not."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.answer = 200
        """The status it answers with; 3xx redirects, `RAISE` raises."""
        self.failing: set[int] = set()
        """Event ids answered 503 whatever `answer` says."""
        self.seen: list[tuple[int, str]] = []
        """Every signed request: (event id, store code), accepted or not."""
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.redirected = 0
        self.app = Starlette(
            routes=[
                Route("/hook", self.hook, methods=["POST"]),
                Route("/elsewhere", self.elsewhere, methods=["POST"]),
            ]
        )
        self.url = ""

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        stamp = request.headers.get("X-Xero-Bot-Request-Timestamp", "")
        given = request.headers.get("X-Xero-Bot-Signature", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            self.refused.append(f"timestamp {stamp!r}")
            return Response(status_code=401)
        base = b"v0:" + stamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self.secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            self.refused.append("signature")
            return Response(status_code=401)
        event = json.loads(body)
        if request.headers.get("X-Xero-Bot-Event-Id") != str(event["id"]):
            self.refused.append("event id header")
            return Response(status_code=400)
        self.seen.append((event["id"], event["store"]["store_code"]))
        if event["id"] in self.failing:
            return Response(status_code=503)
        if self.answer == RAISE:
            raise RuntimeError("the receiver's own bug")
        if 300 <= self.answer < 400:
            return RedirectResponse("/elsewhere", status_code=self.answer)
        if self.answer >= 300:
            return Response(status_code=self.answer)
        self.accepted.append(event)
        return Response(status_code=204)

    async def elsewhere(self, request: Request) -> Response:
        self.redirected += 1
        return Response(status_code=200)

    def ids(self, store: str) -> list[int]:
        """The ids accepted for `store`, in the order they arrived."""
        return [event["id"] for event in self.accepted if event["store"]["store_code"] == store]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver(SECRET)
    async with serve(hook.app, free_socket()) as base:
        hook.url = f"{base}/hook"
        yield hook


@pytest.fixture
async def client(receiver: Receiver) -> AsyncIterator[WebhookClient]:
    webhook = WebhookClient(url=receiver.url, secret=SECRET, timeout=5)
    yield webhook
    await webhook.aclose()


async def add_events(deps: Dependencies, *stores: str, kind: str = "store.ready") -> None:
    """One committed event per store code given, in that order."""
    async with transaction(deps.sessions) as session:
        for n, code in enumerate(stores):
            session.add(
                SyncEvent(
                    kind=kind,
                    occurred_at=deps.clock(),
                    customer_id=7,
                    store_id=STORES[code],
                    cloudpos_group="acme",
                    store_code=code,
                    data={"n": n},
                )
            )


async def events(deps: Dependencies) -> list[SyncEvent]:
    async with transaction(deps.sessions, read_only=True) as session:
        return list(await session.scalars(select(SyncEvent).order_by(SyncEvent.position)))


def counts(report: DeliveryReport) -> tuple[int, int, int]:
    return report.delivered, report.failed, report.abandoned


async def test_events_arrive_signed_with_their_ids_one_per_store_at_a_time(
    deps: Dependencies, receiver: Receiver, client: WebhookClient
) -> None:
    await add_events(deps, "A", "A", "B")

    first = await sync_events.deliver_due(deps, receiver=client)
    assert counts(first) == (2, 0, 0)  # A's second waits for its first
    second = await sync_events.deliver_due(deps, receiver=client)
    assert counts(second) == (1, 0, 0)
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (0, 0, 0)

    assert receiver.refused == []
    stored = await events(deps)
    assert [e.position for e in stored] == [1, 2, 3]
    assert receiver.ids("A") == [1, 2]
    assert receiver.ids("B") == [3]
    one = next(event for event in receiver.accepted if event["id"] == 1)
    assert one["type"] == "store.ready"
    assert one["store"] == {"group": "acme", "store_code": "A"}
    assert one["data"] == {"n": 0}
    assert one["occurred_at"] == stored[0].occurred_at.isoformat().replace("+00:00", "Z")
    assert all(e.delivered_at == deps.clock() and e.attempts == 1 for e in stored)
    state = await sync_events.webhook_state(deps)
    assert (state.waiting, state.stuck, state.last_error) == (0, False, None)


async def test_a_receiver_down_is_retried_with_backoff_and_nothing_is_lost(
    deps: Dependencies, clock: Clock, receiver: Receiver, client: WebhookClient
) -> None:
    await add_events(deps, "A", "A", "B")
    refused = WebhookClient(url=f"http://127.0.0.1:{free_port()}/hook", secret=SECRET)
    receiver.answer = 503

    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (0, 2, 0)
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (0, 0, 0)
    clock.advance(seconds=14)
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (0, 0, 0)
    clock.advance(seconds=1)  # 15 s after the first try
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (0, 2, 0)
    clock.advance(seconds=29)
    assert counts(await sync_events.deliver_due(deps, receiver=refused)) == (0, 0, 0)
    clock.advance(seconds=1)  # then 30 s, on a closed port
    assert counts(await sync_events.deliver_due(deps, receiver=refused)) == (0, 2, 0)
    await refused.aclose()
    first = (await events(deps))[0]
    assert first.attempts == 3
    assert first.next_attempt_at == clock.now + sync_events.FIRST_RETRY * 4
    assert first.last_error == "the webhook could not be reached (ConnectError)"

    receiver.answer = 200
    clock.advance(minutes=1)
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (2, 0, 0)
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (1, 0, 0)

    assert receiver.ids("A") == [1, 2]
    assert receiver.ids("B") == [3]
    # Only retries repeat an event, always with its id; the later one never came early.
    assert [event_id for event_id, store in receiver.seen if store == "A"] == [1, 1, 1, 2]
    assert [event_id for event_id, store in receiver.seen if store == "B"] == [3, 3, 3]
    assert all(event.delivered_at is not None for event in await events(deps))


async def test_a_stuck_store_holds_back_only_its_own_events(
    deps: Dependencies, clock: Clock, receiver: Receiver, client: WebhookClient
) -> None:
    await add_events(deps, "A", "B", "A", "B")
    receiver.failing = {1}

    for _ in range(4):
        await sync_events.deliver_due(deps, receiver=client)
        clock.advance(minutes=2)

    assert receiver.ids("B") == [2, 4]
    assert receiver.ids("A") == []
    assert {event_id for event_id, _ in receiver.seen} == {1, 2, 4}  # 3 waits for 1
    state = await sync_events.webhook_state(deps)
    assert state.waiting == 2  # the one failing and the one behind it
    assert state.last_error == "the webhook answered HTTP 503"


async def test_a_day_of_failures_abandons_the_event_audited_and_the_store_goes_on(
    deps: Dependencies, clock: Clock, receiver: Receiver, client: WebhookClient
) -> None:
    started = clock.now
    await add_events(deps, "A")
    clock.advance(minutes=1)
    await add_events(deps, "A")
    receiver.failing = {1}

    abandoned = 0
    while clock.now - started < sync_events.GIVE_UP_AFTER + sync_events.LONGEST_RETRY:
        abandoned += (await sync_events.deliver_due(deps, receiver=client)).abandoned
        clock.advance(minutes=10)
    first, second = await events(deps)

    assert abandoned == 1
    assert first.abandoned_at is not None
    assert first.delivered_at is None
    assert first.abandoned_at - started >= sync_events.GIVE_UP_AFTER
    assert 10 < first.attempts < 40  # backed off to an hour, not tried every round
    assert second.delivered_at is not None
    assert second.delivered_at >= first.abandoned_at
    assert receiver.ids("A") == [2]
    assert {event_id for event_id, _ in receiver.seen} == {1, 2}
    async with transaction(deps.sessions, read_only=True) as session:
        (audited,) = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "webhook.abandoned")
        )
    assert audited.actor == "system"
    assert (audited.customer_id, audited.store_id) == (7, STORES["A"])
    assert audited.detail["event"] == 1
    assert audited.detail["attempts"] == first.attempts
    assert audited.detail["error"] == "the webhook answered HTTP 503"
    state = await sync_events.webhook_state(deps)
    assert (state.abandoned_last_day, state.waiting, state.stuck) == (1, 0, True)
    assert state.last_error == "the webhook answered HTTP 503"
    clock.advance(days=1)
    assert not (await sync_events.webhook_state(deps)).stuck


class Broken:
    async def deliver(self, *, event_id: int, body: bytes) -> str | None:
        raise RuntimeError(f"{SECRET} leaked into a message")


async def test_redirects_a_receiver_raising_and_a_broken_client_are_failures(
    deps: Dependencies, clock: Clock, receiver: Receiver, client: WebhookClient
) -> None:
    await add_events(deps, "A", "B")

    receiver.answer = 302
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (0, 2, 0)
    assert receiver.redirected == 0
    assert {e.last_error for e in await events(deps)} == {"the webhook answered HTTP 302"}
    receiver.answer = RAISE
    clock.advance(seconds=15)
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (0, 2, 0)
    assert {e.last_error for e in await events(deps)} == {"the webhook answered HTTP 500"}
    clock.advance(seconds=30)
    assert counts(await sync_events.deliver_due(deps, receiver=Broken())) == (0, 2, 0)
    assert {e.last_error for e in await events(deps)} == {"RuntimeError"}

    receiver.answer = 200
    clock.advance(minutes=1)
    assert counts(await sync_events.deliver_due(deps, receiver=client)) == (2, 0, 0)
    assert receiver.accepted
    assert receiver.refused == []


async def test_pushes_are_stuck_after_five_minutes_of_failures(
    deps: Dependencies, clock: Clock, receiver: Receiver, client: WebhookClient
) -> None:
    await add_events(deps, "A", "A", "B")
    receiver.answer = 503
    await sync_events.deliver_due(deps, receiver=client)
    since = clock.now

    fresh = await sync_events.webhook_state(deps)
    assert (fresh.waiting, fresh.stuck) == (3, False)
    clock.advance(minutes=5)
    await sync_events.deliver_due(deps, receiver=client)
    stuck = await sync_events.webhook_state(deps)
    assert stuck.stuck
    assert (stuck.waiting, stuck.oldest_waiting_since) == (3, since)
    assert stuck.last_error == "the webhook answered HTTP 503"

    receiver.answer = 200
    clock.advance(minutes=5)
    await sync_events.deliver_due(deps, receiver=client)
    await sync_events.deliver_due(deps, receiver=client)
    assert not (await sync_events.webhook_state(deps)).stuck
