"""Scheduled jobs: a lease per job so one process at a time runs it, and a record of each run.

A lease is a row in `job_leases`, taken in one statement and one short transaction: inserted
when there is none, taken over only when it ran out (its holder crashed) or is already
ours. No transaction or lock is open while the job works; a heartbeat extends the lease
meanwhile, so a long run keeps it. Each run is a row in `job_runs`, written when it starts
and again when it ends (`ok` or `failed`, what it counted, a short error), so the next run
time can be decided from the database by every replica alike, and the helpdesk can see how
the last run of each job went (`last_runs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.common.redaction import redact
from storage.models import JobLease, JobRun

from ._job_runs import job_run_view, last_runs_in
from ._session import transaction
from .dependencies import Dependencies
from .errors import DomainError
from .results import JobRunView

log = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"
RETRY_AFTER = timedelta(minutes=30)
"""A run that failed (or never finished) is tried again this soon, or at its interval if
that is sooner."""
ERROR_LENGTH = 300
RUNS_KEPT = timedelta(days=7)
"""Runs older than this are deleted as the job starts again (the latest is always kept)."""
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


async def claim(deps: Dependencies, *, job: str, holder: str, lease_for: timedelta) -> bool:
    """Take the lease on `job` for `lease_for`: True when it is now `holder`'s.

    One statement decides, on PostgreSQL and SQLite alike: INSERT … ON CONFLICT DO UPDATE
    … WHERE the lease ran out or is `holder`'s own. Of any number of claims at once,
    exactly one changes a row (PostgreSQL makes the others wait for its commit, then finds
    the lease taken; SQLite runs the transactions one by one).
    """
    now = deps.clock()
    async with transaction(deps) as session:
        insert = _insert_for(session)
        statement = insert.values(job=job, holder=holder, expires_at=now + lease_for)
        statement = statement.on_conflict_do_update(
            index_elements=[JobLease.job],
            set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
            where=(JobLease.expires_at <= now) | (JobLease.holder == holder),
        )
        result = await session.execute(statement)
        return cast("CursorResult[Any]", result).rowcount == 1


async def release(deps: Dependencies, *, job: str, holder: str) -> bool:
    """Give the lease on `job` back, if `holder` still has it (True when it had)."""
    async with transaction(deps) as session:
        result = await session.execute(
            delete(JobLease).where(JobLease.job == job, JobLease.holder == holder)
        )
        return cast("CursorResult[Any]", result).rowcount == 1


async def extend(deps: Dependencies, *, job: str, holder: str, lease_for: timedelta) -> bool:
    """Keep `holder`'s lease on `job` for `lease_for` from now; False when it is no longer
    theirs (it ran out and another process took it)."""
    async with transaction(deps) as session:
        result = await session.execute(
            update(JobLease)
            .where(JobLease.job == job, JobLease.holder == holder)
            .values(expires_at=deps.clock() + lease_for)
            .execution_options(synchronize_session=False)
        )
        return cast("CursorResult[Any]", result).rowcount == 1


async def run(
    deps: Dependencies,
    *,
    job: str,
    holder: str,
    lease_for: timedelta,
    work: Callable[[], Awaitable[object]],
    every: timedelta | None = None,
) -> bool:
    """Run `work` as `job` if the lease can be claimed: True when it ran (and succeeded).

    With `every`, it runs only when due: when the last recorded run of `job` started at
    least `every` ago (or `RETRY_AFTER`, if sooner, after a run that failed or never
    finished). This is decided from `job_runs` after the lease is claimed, so replicas
    ticking at once run it once per interval. The run is recorded as started, then as
    finished with its outcome and the counts of `work`'s result (a dataclass or mapping of
    whole numbers); the lease is released either way. A failure of `work` is recorded and
    raised again.
    """
    if every is not None and not await _due(deps, job, every):
        return False  # read-only look first: most ticks find nothing due and write nothing
    if not await claim(deps, job=job, holder=holder, lease_for=lease_for):
        return False
    try:
        if every is not None and not await _due(deps, job, every):
            return False
        run_id = await _started(deps, job, holder)
        heartbeat = asyncio.create_task(_heartbeat(deps, job, holder, lease_for))
        try:
            result = await work()
        except BaseException as error:
            await _finished(deps, run_id, outcome=FAILED, error=describe(error))
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        await _finished(deps, run_id, outcome=OK, counts=counts_of(result))
        return True
    finally:
        try:
            await release(deps, job=job, holder=holder)
        except Exception:
            log.exception("could not release the lease on job %s; it runs out by itself", job)


async def last_runs(deps: Dependencies) -> tuple[JobRunView, ...]:
    """The latest run of each job that ever ran, by job name."""
    async with transaction(deps, read_only=True) as session:
        return await last_runs_in(session)


async def last_run(deps: Dependencies, *, job: str) -> JobRunView | None:
    """The latest run of `job`, or None when it never ran."""
    async with transaction(deps, read_only=True) as session:
        row = await _latest(session, job)
        return None if row is None else job_run_view(row)


def counts_of(result: object) -> dict[str, int]:
    """The whole numbers a job's result holds, by name (a dataclass's fields, a mapping)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        items: Mapping[str, object] = dataclasses.asdict(result)
    elif isinstance(result, Mapping):
        items = result
    else:
        return {}
    return {
        str(name): value
        for name, value in items.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }


def describe(error: BaseException) -> str:
    """A short line for `job_runs.error`: the error's class and the first line of its
    message, with link tokens, OAuth values and URL passwords masked and SQL left out."""
    if isinstance(error, asyncio.CancelledError):
        return "CancelledError: stopped before it finished (the process shut down)"
    if isinstance(error, DomainError):
        text = error.message
    else:
        text = str(getattr(error, "orig", None) or error)
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = _URL_PASSWORD.sub(r"\1***@", redact(first))
    line = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return line if len(line) <= ERROR_LENGTH else line[: ERROR_LENGTH - 1] + "…"


def _insert_for(session: AsyncSession) -> Any:
    """The INSERT with ON CONFLICT of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(JobLease)
    return sqlite.insert(JobLease)


async def _due(deps: Dependencies, job: str, every: timedelta) -> bool:
    async with transaction(deps, read_only=True) as session:
        last = await _latest(session, job)
    if last is None:
        return True
    wait = every if last.outcome == OK else min(every, RETRY_AFTER)
    return deps.clock() >= last.started_at + wait


async def _latest(session: AsyncSession, job: str) -> JobRun | None:
    return await session.scalar(
        select(JobRun).where(JobRun.job == job).order_by(JobRun.id.desc()).limit(1)
    )


async def _started(deps: Dependencies, job: str, holder: str) -> int:
    now = deps.clock()
    async with transaction(deps) as session:
        await session.execute(
            delete(JobRun).where(JobRun.job == job, JobRun.started_at < now - RUNS_KEPT)
        )
        row = JobRun(job=job, holder=holder, started_at=now, counts={})
        session.add(row)
        await session.flush()
        return row.id


async def _finished(
    deps: Dependencies,
    run_id: int,
    *,
    outcome: str,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> None:
    async with transaction(deps) as session:
        await session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(finished_at=deps.clock(), outcome=outcome, counts=counts or {}, error=error)
            .execution_options(synchronize_session=False)
        )


async def _heartbeat(deps: Dependencies, job: str, holder: str, lease_for: timedelta) -> None:
    """Extend the lease a third of the way through, over and over, until cancelled."""
    while True:
        await asyncio.sleep(lease_for.total_seconds() / 3)
        try:
            kept = await extend(deps, job=job, holder=holder, lease_for=lease_for)
        except Exception:
            log.warning("could not extend the lease on job %s; trying again", job, exc_info=True)
            continue
        if not kept:
            log.warning("the lease on job %s ran out and was taken over while it ran", job)
            return
