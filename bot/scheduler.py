"""The periodic jobs, run inside `xero-bot serve`: keep-alive daily, the connection check
every CONNECTION_CHECK_HOURS, alerts every minute (after the check, in the same tick),
link reminders hourly, and store events older than 90 days deleted daily.

Every replica ticks once a minute and, for each job, tries `jobs.run`: the job's lease lets
one process at a time run it, and whether it is due is read from its last recorded run, so
however many replicas tick, each job runs once per interval. A failing job is recorded and
logged, never raised into the server; on shutdown a job still running gets a few seconds
to finish, then it is cancelled (and recorded as failed). SCHEDULED_JOBS=off keeps a
replica to serving only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from bot.domain import Dependencies, alerts, grants, health, reminders, sync_events
from bot.domain import jobs as domain_jobs
from bot.domain.results import ConnectionCheck
from bot.settings import Settings

log = logging.getLogger(__name__)

KEEP_ALIVE = "keep-alive"
CONNECTION_CHECK = "connection-check"
ALERTS = "alerts"
REMINDERS = "link-reminders"
EVENTS_PRUNE = "events-prune"
KEEP_ALIVE_EVERY = timedelta(days=1)
KEEP_ALIVE_UNUSED_FOR = timedelta(days=30)
"""Grants not refreshed for this long are refreshed (Xero drops them after 60 days)."""
TICK = timedelta(minutes=1)
ALERTS_EVERY = TICK
REMINDERS_EVERY = timedelta(hours=1)
LEASE = timedelta(minutes=10)
"""How long a lease lasts unless its holder's heartbeat extends it: how soon another
replica takes a job over from a process that died while running it."""
SHUTDOWN_GRACE = 10.0
"""Seconds a running job gets to finish when the server stops, before it is cancelled."""

_R = TypeVar("_R")


@dataclass(frozen=True)
class Job(Generic[_R]):
    name: str
    every: timedelta
    work: Callable[[Dependencies], Awaitable[_R]]


def keep_alive_job() -> Job[grants.KeepAliveReport]:
    return Job(
        KEEP_ALIVE,
        KEEP_ALIVE_EVERY,
        lambda deps: grants.keep_alive(deps, unused_for=KEEP_ALIVE_UNUSED_FOR),
    )


def connection_check_job(settings: Settings) -> Job[ConnectionCheck]:
    return Job(CONNECTION_CHECK, settings.connection_check_interval, health.check_connections)


def alerts_job() -> Job[alerts.AlertReport]:
    return Job(ALERTS, ALERTS_EVERY, alerts.report)


def reminders_job(after: timedelta) -> Job[reminders.ReminderReport]:
    return Job(REMINDERS, REMINDERS_EVERY, lambda deps: reminders.send_due(deps, after=after))


def events_prune_job() -> Job[dict[str, int]]:
    async def prune(deps: Dependencies) -> dict[str, int]:
        return {"deleted": await sync_events.prune(deps)}

    return Job(EVENTS_PRUNE, KEEP_ALIVE_EVERY, prune)


def default_jobs(settings: Settings) -> tuple[Job[Any], ...]:
    """The jobs in the order a tick tries them: alerts right after the check."""
    jobs: list[Job[Any]] = [keep_alive_job(), connection_check_job(settings), alerts_job()]
    if settings.consent_reminder_after is not None:
        jobs.append(reminders_job(settings.consent_reminder_after))
    jobs.append(events_prune_job())
    return tuple(jobs)


def holder_name() -> str:
    """Who holds a lease: this host and process, and a random part (process ids repeat
    across containers)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_now(
    deps: Dependencies, job: Job[_R], *, holder: str | None = None, lease_for: timedelta = LEASE
) -> _R | None:
    """Run `job` once now, due or not, under its lease and recorded like a scheduled run:
    its result, or None when another process is running it. Its failure is raised."""
    results: list[_R] = []

    async def work() -> _R:
        results.append(await job.work(deps))
        return results[-1]

    ran = await domain_jobs.run(
        deps, job=job.name, holder=holder or holder_name(), lease_for=lease_for, work=work
    )
    return results[-1] if ran else None


class Scheduler:
    """Ticks every `tick`, running the jobs that are due, one after another."""

    def __init__(
        self,
        deps: Dependencies,
        jobs: Sequence[Job[Any]],
        *,
        holder: str | None = None,
        tick: timedelta = TICK,
        lease_for: timedelta = LEASE,
        shutdown_grace: float = SHUTDOWN_GRACE,
    ) -> None:
        self.deps = deps
        self.jobs = tuple(jobs)
        self.holder = holder or holder_name()
        self._tick = tick
        self._lease_for = lease_for
        self._grace = shutdown_grace
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._busy = False

    async def tick(self) -> list[str]:
        """Try every job once: the names of those that ran. Never raises for a job."""
        ran = []
        for job in self.jobs:
            if self._stopping:
                break
            if await self._try(job):
                ran.append(job.name)
        return ran

    async def _try(self, job: Job[Any]) -> bool:
        results: list[object] = []

        async def work() -> object:
            results.append(await job.work(self.deps))
            return results[-1]

        try:
            ran = await domain_jobs.run(
                self.deps,
                job=job.name,
                holder=self.holder,
                lease_for=self._lease_for,
                work=work,
                every=job.every,
            )
        except Exception as error:
            reason = domain_jobs.describe(error)
            log.error("scheduled job %s failed: %s", job.name, reason, exc_info=True)
            return False
        if ran:
            counts = ", ".join(f"{k} {v}" for k, v in domain_jobs.counts_of(results[-1]).items())
            log.info("scheduled job %s finished: %s", job.name, counts or "done")
        return ran

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="xero-bot scheduler")

    async def stop(self) -> None:
        """Stop ticking; a job that is running gets `shutdown_grace` seconds, then it is
        cancelled. Returns once nothing of the scheduler runs any more."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._busy:
            await asyncio.wait({task}, timeout=self._grace)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        while not self._stopping:
            self._busy = True
            try:
                await self.tick()
            finally:
                self._busy = False
            if self._stopping:
                return
            await asyncio.sleep(self._tick.total_seconds())


@asynccontextmanager
async def running(
    deps: Dependencies,
    settings: Settings,
    *,
    jobs: Sequence[Job[Any]] | None = None,
    **options: Any,
) -> AsyncIterator[Scheduler | None]:
    """The scheduler ticking in the background for as long as the block runs (None when
    SCHEDULED_JOBS is off); stopped, with nothing left running, when it ends."""
    if not settings.scheduled_jobs:
        log.info("scheduled jobs are off (SCHEDULED_JOBS=off): this process only serves")
        yield None
        return
    scheduler = Scheduler(deps, default_jobs(settings) if jobs is None else jobs, **options)
    log.info(
        "scheduled jobs: %s",
        ", ".join(f"{job.name} every {_interval(job.every)}" for job in scheduler.jobs),
    )
    scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.stop()


def _interval(every: timedelta) -> str:
    hours = every.total_seconds() / 3600
    return f"{hours:g} h" if hours >= 1 else f"{every.total_seconds() / 60:g} min"
