"""The store events the sync service follows: pulled in order, and pushed to its webhook.

Events are written by `_outbox` in the transactions of their changes. Before anything reads
them, `number_committed` gives each committed event the next `position`, one numbering at a
time (a lock on PostgreSQL; SQLite writes one transaction at a time anyway): so an event
whose transaction took its id early but committed late gets a later position, and a reader
that asked `after=N` never misses it.

Pushes are at least once, in order per store (an event waits while an earlier one of its
store is undelivered), retried with backoff, and abandoned after a day of failures; the
pull feed keeps every event either way.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import SyncEvent

from ._outbox import StoreEvent as StoreEvent  # the kinds, for the API's description
from ._session import audit, transaction
from .dependencies import Dependencies
from .errors import DomainError, InvalidRequest
from .ports import WebhookReceiver

FEED_PAGE = 100
MAX_FEED_PAGE = 1000
NUMBERING_LOCK = 0x58424F54
"""The PostgreSQL advisory lock key positions are given under ("XBOT")."""
GIVE_UP_AFTER = timedelta(days=1)
FIRST_RETRY = timedelta(seconds=15)
LONGEST_RETRY = timedelta(hours=1)
STUCK_AFTER = timedelta(minutes=5)
CONCURRENT_DELIVERIES = 8
DELIVERY_ROUND = 3 * CONCURRENT_DELIVERIES
"""Events pushed per round: with the client's 10 s timeout a round ends within 30 s."""
MAX_ERROR = 300
KEPT_FOR = timedelta(days=90)
"""How long the pull feed keeps an event: a reader further behind reads /stores again."""


class EventsDeleted(DomainError):
    """A reader asked for events older than the feed keeps; `last_id` is where it goes on."""

    def __init__(self, message: str, *, last_id: int) -> None:
        super().__init__(message)
        self.last_id = last_id


@dataclass(frozen=True, kw_only=True)
class EventPage:
    events: tuple[dict[str, Any], ...]
    last_id: int
    """The id to ask `after` next time (the one asked for when there is nothing new)."""


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    abandoned: int = 0


@dataclass(frozen=True, kw_only=True)
class WebhookState:
    """How pushing events is going, for the helpdesk's attention page."""

    waiting: int
    """Events neither delivered nor abandoned yet: failing, or waiting their turn."""
    oldest_waiting_since: datetime | None
    """When the oldest event tried and not delivered happened, once that is `STUCK_AFTER`
    ago (None before: a failure or two is not news)."""
    last_error: str | None
    """The latest failure of a waiting event, else of one abandoned in the last day."""
    abandoned_last_day: int

    @property
    def stuck(self) -> bool:
        return self.abandoned_last_day > 0 or self.oldest_waiting_since is not None


async def number_committed(deps: Dependencies) -> int:
    """Give committed events without a position the next ones, in id order; how many."""
    async with transaction(deps, read_only=True) as session:
        pending = await session.scalar(
            select(SyncEvent.id).where(SyncEvent.position.is_(None)).limit(1)
        )
    if pending is None:
        return 0
    async with transaction(deps) as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUMBERING_LOCK}
            )
        last = await session.scalar(select(func.coalesce(func.max(SyncEvent.position), 0)))
        ids = list(
            await session.scalars(
                select(SyncEvent.id)
                .where(SyncEvent.position.is_(None))
                .order_by(SyncEvent.id)
                .limit(MAX_FEED_PAGE)
            )
        )
        if ids:
            await session.execute(
                update(SyncEvent),
                [{"id": id_, "position": (last or 0) + n} for n, id_ in enumerate(ids, 1)],
            )
        return len(ids)


async def feed(deps: Dependencies, *, after: int = 0, limit: int = FEED_PAGE) -> EventPage:
    """The events after `after`, oldest first."""
    if after < 0:
        raise InvalidRequest("after must be 0 or an event id.", field="after")
    if not 1 <= limit <= MAX_FEED_PAGE:
        raise InvalidRequest(f"limit must be 1 to {MAX_FEED_PAGE}.", field="limit")
    await number_committed(deps)
    async with transaction(deps, read_only=True) as session:
        oldest = await session.scalar(select(func.min(SyncEvent.position)))
        if oldest is not None and 0 < after < oldest - 1:
            raise EventsDeleted(
                f"The events after {after} were deleted: events are kept {KEPT_FOR.days} days. "
                f"Read /api/v1/stores again, then follow the feed from {oldest - 1}.",
                last_id=oldest - 1,
            )
        events = list(
            await session.scalars(
                select(SyncEvent)
                .where(SyncEvent.position > after)
                .order_by(SyncEvent.position)
                .limit(limit)
            )
        )
    last_id = (events[-1].position or after) if events else after
    return EventPage(events=tuple(event_body(event) for event in events), last_id=last_id)


async def prune(deps: Dependencies, *, older_than: timedelta = KEPT_FOR) -> int:
    """Delete events older than `older_than` (the webhook gave up on them after a day); how
    many. The newest event always stays, so numbering goes on from it."""
    await number_committed(deps)
    newest = select(func.max(SyncEvent.position)).scalar_subquery()
    async with transaction(deps) as session:
        deleted = await session.execute(
            delete(SyncEvent).where(
                SyncEvent.occurred_at < deps.clock() - older_than,
                SyncEvent.position.is_not(None),
                SyncEvent.position < newest,
            )
        )
        return int(getattr(deleted, "rowcount", 0) or 0)


def event_body(event: SyncEvent) -> dict[str, Any]:
    """An event as the API and the webhook show it; `id` is its position."""
    return {
        "id": event.position,
        "type": event.kind,
        "occurred_at": event.occurred_at,
        "store": {"group": event.cloudpos_group, "store_code": event.store_code},
        "data": event.data,
    }


async def deliver_due(deps: Dependencies, *, receiver: WebhookReceiver) -> DeliveryReport:
    """Push every event that is due, one per store at a time; what happened, in counts.

    Nothing is locked while the receiver answers; only one process should run this at a
    time (the caller holds a job lease), which keeps each store's events in order.
    """
    await number_committed(deps)
    report = DeliveryReport()
    now = deps.clock()
    async with transaction(deps, read_only=True) as session:
        due = await _due(session, now)
    if not due:
        return report
    gate = asyncio.Semaphore(CONCURRENT_DELIVERIES)

    async def one(event: SyncEvent) -> None:
        body = json.dumps(event_body(event), default=_iso, separators=(",", ":")).encode()
        async with gate:
            try:
                failure = await receiver.deliver(event_id=event.position or 0, body=body)
            except Exception as error:  # the receiver's bug must not stop the others
                failure = type(error).__name__
        await _record(deps, event, failure, report)

    async with asyncio.TaskGroup() as group:
        for event in due:
            group.create_task(one(event))
    return report


async def webhook_state(deps: Dependencies) -> WebhookState:
    """Whether pushes are stuck: tried and failing for `STUCK_AFTER`, or abandoned lately."""
    async with transaction(deps, read_only=True) as session:
        return await webhook_state_in(session, deps.clock())


async def webhook_state_in(session: AsyncSession, now: datetime) -> WebhookState:
    """`webhook_state` in the caller's transaction (the attention overview reads it all in
    one)."""
    waiting = (SyncEvent.delivered_at.is_(None), SyncEvent.abandoned_at.is_(None))
    tried = (*waiting, SyncEvent.attempts > 0)
    count = await session.scalar(select(func.count()).select_from(SyncEvent).where(*waiting))
    oldest = await session.scalar(select(func.min(SyncEvent.occurred_at)).where(*tried))
    recently_abandoned = SyncEvent.abandoned_at >= now - GIVE_UP_AFTER
    abandoned = await session.scalar(
        select(func.count()).select_from(SyncEvent).where(recently_abandoned)
    )
    last_error = await session.scalar(
        select(SyncEvent.last_error)
        .where(*tried)
        .order_by(SyncEvent.next_attempt_at.desc(), SyncEvent.id.desc())
        .limit(1)
    )
    if last_error is None and abandoned:
        last_error = await session.scalar(
            select(SyncEvent.last_error)
            .where(recently_abandoned)
            .order_by(SyncEvent.abandoned_at.desc(), SyncEvent.id.desc())
            .limit(1)
        )
    stuck_since = oldest if oldest is not None and now - oldest >= STUCK_AFTER else None
    return WebhookState(
        waiting=count or 0,
        oldest_waiting_since=stuck_since,
        last_error=last_error,
        abandoned_last_day=abandoned or 0,
    )


async def _due(session: AsyncSession, now: datetime) -> list[SyncEvent]:
    earlier = aliased(SyncEvent)
    blocked = (
        select(earlier.id)
        .where(
            earlier.store_id == SyncEvent.store_id,
            earlier.position < SyncEvent.position,
            earlier.delivered_at.is_(None),
            earlier.abandoned_at.is_(None),
        )
        .exists()
    )
    found = await session.scalars(
        select(SyncEvent)
        .where(
            SyncEvent.position.is_not(None),
            SyncEvent.delivered_at.is_(None),
            SyncEvent.abandoned_at.is_(None),
            (SyncEvent.next_attempt_at.is_(None)) | (SyncEvent.next_attempt_at <= now),
            ~blocked,
        )
        .order_by(SyncEvent.position)
        .limit(DELIVERY_ROUND)
    )
    return list(found)


async def _record(
    deps: Dependencies, event: SyncEvent, failure: str | None, report: DeliveryReport
) -> None:
    now = deps.clock()
    attempts = event.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    if failure is None:
        values["delivered_at"] = now
        report.delivered += 1
    elif now - event.occurred_at >= GIVE_UP_AFTER:
        values.update(abandoned_at=now, last_error=failure[:MAX_ERROR])
        report.abandoned += 1
    else:
        # The exponent stops where the wait passed the longest: a big one overflows timedelta.
        wait = min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LONGEST_RETRY)
        values.update(next_attempt_at=now + wait, last_error=failure[:MAX_ERROR])
        report.failed += 1
    async with transaction(deps) as session:
        await session.execute(update(SyncEvent).where(SyncEvent.id == event.id).values(**values))
        if "abandoned_at" in values:
            audit(
                deps, session, actor="system", action="webhook.abandoned",
                customer_id=event.customer_id, store_id=event.store_id, store=event.store_code,
                event=event.position, type=event.kind, attempts=attempts, error=failure,
            )  # fmt: skip


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")  # as the pull feed writes it
    raise TypeError(type(value).__name__)
