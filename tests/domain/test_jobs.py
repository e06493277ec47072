"""Scheduled jobs' leases and runs, on SQLite and PostgreSQL: one holder at a time, a lease
that ran out is taken over, and every run is recorded however it ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import Dependencies, jobs
from bot.domain.errors import ExternalServiceError
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.models import JobLease, JobRun
from tests.conftest import Clock, make_deps

LEASE = timedelta(minutes=10)
CLAIMS = 20


async def leases(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with transaction(session_factory(engine), read_only=True) as session:
        return [(row.job, row.holder) for row in await session.scalars(select(JobLease))]


async def runs(engine: AsyncEngine, job: str | None = None) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id)
    if job is not None:
        query = query.where(JobRun.job == job)
    async with transaction(session_factory(engine), read_only=True) as session:
        return list(await session.scalars(query))


@dataclass(frozen=True)
class Report:
    checked: int
    failed: int
    note: str = "not a count"
    flag: bool = True


@pytest.fixture
async def replicas(
    database_url: str,
    engine: AsyncEngine,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> AsyncIterator[list[Dependencies]]:
    """One service per claim, each on its own engine, like so many processes."""
    engines = [create_engine(database_url) for _ in range(CLAIMS)]
    try:
        yield [make_deps(each, clock, cloudpos, emulator) for each in engines]
    finally:
        await asyncio.gather(*(each.dispose() for each in engines))


async def test_twenty_claims_at_once_one_wins(
    replicas: list[Dependencies], engine: AsyncEngine
) -> None:
    for trial in range(3):
        job = f"race-{trial}"
        won = await asyncio.gather(
            *(
                jobs.claim(deps, job=job, holder=f"replica-{number}", lease_for=LEASE)
                for number, deps in enumerate(replicas)
            )
        )
        assert won.count(True) == 1, trial
        winner = f"replica-{won.index(True)}"
        assert (job, winner) in await leases(engine)


async def test_twenty_runs_at_once_of_a_due_job_run_it_once(
    replicas: list[Dependencies], engine: AsyncEngine
) -> None:
    """Some find the lease taken; the rest claim it after the first released it, and find
    the run it recorded: the job is no longer due."""
    calls = 0

    async def work() -> Report:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return Report(checked=1, failed=0)

    ran = await asyncio.gather(
        *(
            jobs.run(
                deps,
                job="race",
                holder=f"replica-{number}",
                lease_for=LEASE,
                work=work,
                every=timedelta(hours=1),
            )
            for number, deps in enumerate(replicas)
        )
    )
    assert ran.count(True) == 1
    assert calls == 1
    assert len(await runs(engine)) == 1
    assert await leases(engine) == []


async def test_a_lease_is_taken_over_only_once_it_ran_out(
    deps: Dependencies, engine: AsyncEngine, clock: Clock
) -> None:
    assert await jobs.claim(deps, job="job", holder="first", lease_for=LEASE)
    assert not await jobs.claim(deps, job="job", holder="second", lease_for=LEASE)
    clock.advance(minutes=9, seconds=59)
    assert not await jobs.claim(deps, job="job", holder="second", lease_for=LEASE)
    assert await jobs.claim(deps, job="job", holder="first", lease_for=LEASE)  # renewed: ours
    clock.advance(minutes=10)
    assert await jobs.claim(deps, job="job", holder="second", lease_for=LEASE)
    assert await leases(engine) == [("job", "second")]
    assert not await jobs.claim(deps, job="job", holder="first", lease_for=LEASE)


async def test_only_the_holder_releases_a_lease(deps: Dependencies, engine: AsyncEngine) -> None:
    assert await jobs.claim(deps, job="job", holder="first", lease_for=LEASE)
    assert not await jobs.release(deps, job="job", holder="second")
    assert await leases(engine) == [("job", "first")]
    assert await jobs.release(deps, job="job", holder="first")
    assert await jobs.claim(deps, job="job", holder="second", lease_for=LEASE)


async def test_a_run_is_recorded_with_its_counts_and_releases_its_lease(
    deps: Dependencies, engine: AsyncEngine, clock: Clock
) -> None:
    started = clock.now

    async def work() -> Report:
        clock.advance(seconds=42)
        return Report(checked=3, failed=1)

    assert await jobs.run(deps, job="check", holder="me", lease_for=LEASE, work=work)
    [run] = await runs(engine)
    assert (run.job, run.holder, run.outcome, run.error) == ("check", "me", "ok", None)
    assert run.started_at == started
    assert run.finished_at == started + timedelta(seconds=42)
    assert run.counts == {"checked": 3, "failed": 1}
    assert await leases(engine) == []


async def test_a_failing_job_is_recorded_as_failed_and_releases_its_lease(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    async def work() -> Report:
        raise RuntimeError("cannot reach postgresql://bot:hunter2@db/bot\nsecond line")

    with pytest.raises(RuntimeError):
        await jobs.run(deps, job="check", holder="me", lease_for=LEASE, work=work)
    [run] = await runs(engine)
    assert run.outcome == "failed"
    assert run.finished_at is not None
    assert run.counts == {}
    assert run.error == "RuntimeError: cannot reach postgresql://bot:***@db/bot"
    assert await leases(engine) == []
    assert await jobs.claim(deps, job="check", holder="another", lease_for=LEASE)


async def test_a_run_that_is_cancelled_is_recorded_and_releases_its_lease(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    working = asyncio.Event()

    async def work() -> Report:
        working.set()
        await asyncio.Event().wait()
        raise AssertionError("never")

    task = asyncio.create_task(jobs.run(deps, job="check", holder="me", lease_for=LEASE, work=work))
    await working.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [run] = await runs(engine)
    assert run.outcome == "failed"
    assert run.error is not None
    assert run.error.startswith("CancelledError: stopped before it finished")
    assert await leases(engine) == []


async def test_while_a_job_runs_another_holder_does_not_run_it(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    working, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> Report:
        working.set()
        await finish.wait()
        return Report(checked=1, failed=0)

    async def never() -> Report:
        raise AssertionError("ran while the lease was held")

    first = asyncio.create_task(
        jobs.run(deps, job="check", holder="first", lease_for=LEASE, work=slow)
    )
    await working.wait()
    assert not await jobs.run(deps, job="check", holder="second", lease_for=LEASE, work=never)
    finish.set()
    assert await first
    assert [run.holder for run in await runs(engine)] == ["first"]


async def test_the_lease_is_kept_while_the_job_works(
    deps: Dependencies, engine: AsyncEngine, clock: Clock
) -> None:
    """A run longer than its lease keeps it: the heartbeat extends it meanwhile."""
    lease_for = timedelta(seconds=0.3)
    working, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> Report:
        working.set()
        await finish.wait()
        return Report(checked=1, failed=0)

    task = asyncio.create_task(
        jobs.run(deps, job="check", holder="first", lease_for=lease_for, work=slow)
    )
    await working.wait()
    clock.advance(hours=1)  # the first lease ran out long ago
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not await _lease_runs_past(engine, clock):
        assert loop.time() < deadline, "the heartbeat never extended the lease"
        await asyncio.sleep(0.02)
    assert not await jobs.claim(deps, job="check", holder="second", lease_for=lease_for)
    finish.set()
    assert await task


async def _lease_runs_past(engine: AsyncEngine, clock: Clock) -> bool:
    async with transaction(session_factory(engine), read_only=True) as session:
        lease = await session.scalar(select(JobLease))
    return lease is not None and lease.expires_at > clock.now


async def test_a_job_runs_only_when_its_last_run_is_an_interval_old(
    deps: Dependencies, engine: AsyncEngine, clock: Clock
) -> None:
    every = timedelta(hours=6)
    calls = 0

    async def work() -> Report:
        nonlocal calls
        calls += 1
        return Report(checked=calls, failed=0)

    def run() -> Any:
        return jobs.run(deps, job="check", holder="me", lease_for=LEASE, work=work, every=every)

    assert await run()
    clock.advance(hours=5, minutes=59)
    assert not await run()
    clock.advance(minutes=1)
    assert await run()
    assert not await run()
    assert calls == 2
    assert len(await runs(engine)) == 2
    assert await leases(engine) == []


async def test_a_failed_run_is_tried_again_sooner_than_its_interval(
    deps: Dependencies, clock: Clock
) -> None:
    outcomes: list[Exception | None] = [ExternalServiceError("Xero is down.", retryable=True)]

    async def work() -> Report:
        if outcomes and (error := outcomes.pop()) is not None:
            raise error
        return Report(checked=1, failed=0)

    def run() -> Any:
        return jobs.run(
            deps, job="check", holder="me", lease_for=LEASE, work=work, every=timedelta(days=1)
        )

    with pytest.raises(ExternalServiceError):
        await run()
    clock.advance(minutes=29)
    assert not await run()
    clock.advance(minutes=1)
    assert await run()
    clock.advance(hours=23)
    assert not await run()


async def test_last_runs_are_the_latest_of_each_job(deps: Dependencies, clock: Clock) -> None:
    assert await jobs.last_runs(deps) == ()

    async def ok() -> Report:
        return Report(checked=2, failed=0)

    async def failing() -> Report:
        raise ExternalServiceError("Xero is not answering. Try again later.", retryable=True)

    await jobs.run(deps, job="keep-alive", holder="a", lease_for=LEASE, work=ok)
    clock.advance(hours=1)
    with pytest.raises(ExternalServiceError):
        await jobs.run(deps, job="keep-alive", holder="b", lease_for=LEASE, work=failing)
    await jobs.run(deps, job="connection-check", holder="a", lease_for=LEASE, work=ok)

    latest = await jobs.last_runs(deps)
    assert [(run.job, run.holder, run.outcome) for run in latest] == [
        ("connection-check", "a", "ok"),
        ("keep-alive", "b", "failed"),
    ]
    assert latest[0].counts == {"checked": 2, "failed": 0}
    assert latest[0].finished
    assert latest[1].started_at == clock.now
    assert latest[1].error == ("ExternalServiceError: Xero is not answering. Try again later.")
    assert await jobs.last_run(deps, job="keep-alive") == latest[1]
    assert await jobs.last_run(deps, job="never") is None


def test_an_error_is_described_without_sql_or_secrets() -> None:
    error = OperationalError(
        "UPDATE xero_grants SET refresh_token_encrypted=?", ("gAAAA-secret",), Exception("locked")
    )
    assert jobs.describe(error) == "OperationalError: locked"
    leaked = RuntimeError("GET https://bot.test/xero/callback?code=abc123&state=xyz789 failed")
    described = jobs.describe(leaked)
    assert "abc123" not in described
    assert "xyz789" not in described
    assert len(jobs.describe(RuntimeError("x" * 1000))) == jobs.ERROR_LENGTH
    assert jobs.describe(RuntimeError()) == "RuntimeError"


def test_counts_are_the_whole_numbers_of_a_result() -> None:
    assert jobs.counts_of(Report(checked=1, failed=2)) == {"checked": 1, "failed": 2}
    assert jobs.counts_of({"a": 1, "b": "x", "c": True}) == {"a": 1}
    assert jobs.counts_of(None) == {}
    assert jobs.counts_of(Report) == {}


async def test_runs_older_than_a_week_go_as_the_job_starts_again(
    deps: Dependencies, engine: AsyncEngine, clock: Clock
) -> None:
    async def work() -> Report:
        return Report(checked=1, failed=0)

    for job in ("alerts", "other"):
        assert await jobs.run(deps, job=job, holder="me", lease_for=LEASE, work=work)
    clock.advance(days=6)
    assert await jobs.run(deps, job="alerts", holder="me", lease_for=LEASE, work=work)
    clock.advance(days=2)
    assert await jobs.run(deps, job="alerts", holder="me", lease_for=LEASE, work=work)

    kept = [(run.job, run.started_at) for run in await runs(engine)]
    assert kept == [
        ("other", clock.now - timedelta(days=8)),  # another job's runs wait for its own start
        ("alerts", clock.now - timedelta(days=2)),
        ("alerts", clock.now),
    ]
