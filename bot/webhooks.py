"""Pushing store events to SYNC_WEBHOOK_URL while `serve` runs.

Every replica runs a `Pusher`, and the `sync-webhook` lease lets one of them push at a time
(which keeps each store's events in order); another takes over within `LEASE` when that
one stops. It looks for due events every `POLL` and straight away after a busy round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from bot.clients.webhook import WebhookClient
from bot.domain import Dependencies, sync_events
from bot.domain import jobs as domain_jobs
from bot.domain.ports import WebhookReceiver
from bot.scheduler import holder_name
from bot.settings import Settings

log = logging.getLogger(__name__)

JOB = "sync-webhook"
POLL = 2.0
LEASE = timedelta(seconds=60)


class Pusher:
    def __init__(
        self,
        deps: Dependencies,
        receiver: WebhookReceiver,
        *,
        poll: float = POLL,
        holder: str | None = None,
    ) -> None:
        self.deps = deps
        self.receiver = receiver
        self.poll = poll
        self.holder = holder or holder_name()
        self._task: asyncio.Task[None] | None = None

    async def round(self) -> sync_events.DeliveryReport | None:
        """One round under the lease: what it pushed, or None when another process pushes."""
        deps = self.deps
        if not await domain_jobs.claim(deps, job=JOB, holder=self.holder, lease_for=LEASE):
            return None
        return await sync_events.deliver_due(deps, receiver=self.receiver)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="xero-bot webhook pusher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        with suppress(Exception):
            await domain_jobs.release(self.deps, job=JOB, holder=self.holder)

    async def _loop(self) -> None:
        while True:
            busy = False
            try:
                report = await self.round()
                busy = report is not None and (report.delivered > 0)
            except Exception:
                log.exception("pushing store events to the sync webhook failed")
            if not busy:
                await asyncio.sleep(self.poll)


@asynccontextmanager
async def pushing(deps: Dependencies, settings: Settings) -> AsyncIterator[Pusher | None]:
    """The pusher running for as long as the block does, when a webhook is configured."""
    if not (settings.sync_webhook_url and settings.sync_webhook_secret):
        yield None
        return
    client = WebhookClient(url=settings.sync_webhook_url, secret=settings.sync_webhook_secret)
    pusher = Pusher(deps, client)
    pusher.start()
    log.info("store events are pushed to the sync webhook")
    try:
        yield pusher
    finally:
        await pusher.stop()
        await client.aclose()
