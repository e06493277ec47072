"""The scheduled jobs inside `serve`: once per interval however many replicas tick, failures
recorded and logged, a clean stop, and SCHEDULED_JOBS=off running nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import scheduler
from bot.app import create_app
from bot.domain import Dependencies, jobs
from bot.scheduler import Job, Scheduler
from bot.settings import Settings
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.models import JobLease, JobRun
from tests.app.serving import serve_env, serving
from tests.conftest import Clock, make_deps
from tests.web_fixtures import web_settings

LEASE = timedelta(minutes=10)


class Work:
    """A job's work that counts its calls and may take a while or fail."""

    def __init__(self, *, fail: bool = False, pause: float = 0.005) -> None:
        self.calls = 0
        self.fail = fail
        self.pause = pause

    async def __call__(self, _deps: Dependencies) -> dict[str, int]:
        self.calls += 1
        await asyncio.sleep(self.pause)  # the other replica ticks meanwhile
        if self.fail:
            raise RuntimeError("boom")
        return {"calls": self.calls}


async def runs(engine: AsyncEngine, job: str | None = None) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id)
    if job is not None:
        query = query.where(JobRun.job == job)
    async with transaction(session_factory(engine), read_only=True) as session:
        return list(await session.scalars(query))


async def leases(engine: AsyncEngine) -> list[str]:
    async with transaction(session_factory(engine), read_only=True) as session:
        return list(await session.scalars(select(JobLease.job)))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while not await check():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.02)


def other_tasks() -> set[asyncio.Task[object]]:
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current and not task.done()}


@pytest.fixture
async def replicas(
    database_url: str,
    engine: AsyncEngine,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> AsyncIterator[tuple[Dependencies, Dependencies]]:
    """Two services on one database, each with its own engine, as two processes would be."""
    first, second = create_engine(database_url), create_engine(database_url)
    try:
        yield (
            make_deps(first, clock, cloudpos, emulator),
            make_deps(second, clock, cloudpos, emulator),
        )
    finally:
        await first.dispose()
        await second.dispose()


async def test_two_schedulers_on_one_database_run_each_job_once_per_interval(
    replicas: tuple[Dependencies, Dependencies], engine: AsyncEngine, clock: Clock
) -> None:
    hourly, six_hourly = Work(), Work()
    schedule = [
        Job("hourly", timedelta(hours=1), hourly),
        Job("six-hourly", timedelta(hours=6), six_hourly),
    ]
    first = Scheduler(replicas[0], schedule, holder="first", lease_for=LEASE)
    second = Scheduler(replicas[1], schedule, holder="second", lease_for=LEASE)
    start = clock.now
    for _ in range(13 * 6 + 1):  # a tick every 10 minutes for 13 hours, both at once
        await asyncio.gather(first.tick(), second.tick())
        clock.advance(minutes=10)

    def started(rows: list[JobRun]) -> list[datetime]:
        return [row.started_at for row in rows]

    hourly_runs = await runs(engine, "hourly")
    assert started(hourly_runs) == [start + timedelta(hours=hour) for hour in range(14)]
    six_hourly_runs = await runs(engine, "six-hourly")
    assert started(six_hourly_runs) == [start + timedelta(hours=hour) for hour in (0, 6, 12)]
    assert {row.outcome for row in [*hourly_runs, *six_hourly_runs]} == {"ok"}
    assert (hourly.calls, six_hourly.calls) == (14, 3)
    assert hourly_runs[-1].counts == {"calls": 14}
    assert await leases(engine) == []


async def test_a_failing_job_is_logged_and_recorded_and_the_next_one_still_runs(
    deps: Dependencies, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    failing, fine = Work(fail=True), Work()
    ticking = Scheduler(
        deps,
        [Job("failing", timedelta(hours=1), failing), Job("fine", timedelta(hours=1), fine)],
        holder="me",
    )
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        assert await ticking.tick() == ["fine"]
    assert [(row.job, row.outcome, row.error) for row in await runs(engine)] == [
        ("failing", "failed", "RuntimeError: boom"),
        ("fine", "ok", None),
    ]
    messages = [record.getMessage() for record in caplog.records]
    assert "scheduled job failing failed: RuntimeError: boom" in messages
    assert "scheduled job fine finished: calls 1" in messages
    assert await leases(engine) == []


async def test_a_job_another_process_is_running_is_left_to_it(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    work = Work()
    assert await jobs.claim(deps, job="job", holder="elsewhere", lease_for=LEASE)
    ticking = Scheduler(deps, [Job("job", timedelta(hours=1), work)], holder="me")
    assert await ticking.tick() == []
    assert work.calls == 0
    assert await runs(engine) == []


@pytest.mark.parametrize(("value", "runs_jobs"), [("on", True), ("off", False)])
async def test_scheduled_jobs_off_runs_nothing(
    value: str, runs_jobs: bool, deps: Dependencies, engine: AsyncEngine
) -> None:
    settings = Settings.from_env({"SCHEDULED_JOBS": value})
    work = Work()
    before = other_tasks()
    async with scheduler.running(
        deps, settings, jobs=[Job("job", timedelta(hours=1), work)], tick=timedelta(seconds=0.01)
    ) as running:
        assert (running is not None) is runs_jobs
        assert (other_tasks() != before) is runs_jobs
        if runs_jobs:
            await eventually(lambda: _has_runs(engine), "the scheduler never ran its job")
        else:
            await asyncio.sleep(0.2)  # twenty ticks, had it been on
    assert (work.calls == 1) is runs_jobs
    assert (len(await runs(engine)) == 1) is runs_jobs
    assert other_tasks() == before


async def _has_runs(engine: AsyncEngine) -> bool:
    return any(row.outcome for row in await runs(engine))


async def test_stopping_lets_a_job_finish_within_the_grace(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    work = Work(pause=0.2)
    before = other_tasks()
    ticking = Scheduler(deps, [Job("job", timedelta(hours=1), work)], shutdown_grace=10)
    ticking.start()
    await eventually(lambda: _started(engine), "the job never started")
    await ticking.stop()
    assert [row.outcome for row in await runs(engine)] == ["ok"]
    assert other_tasks() == before


async def test_stopping_cancels_a_job_that_outlasts_the_grace_and_leaves_nothing_running(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    work = Work(pause=3600)
    before = other_tasks()
    ticking = Scheduler(deps, [Job("job", timedelta(hours=1), work)], shutdown_grace=0.05)
    ticking.start()
    await eventually(lambda: _started(engine), "the job never started")
    loop = asyncio.get_running_loop()
    stopping = loop.time()
    await asyncio.wait_for(ticking.stop(), timeout=5)
    assert loop.time() - stopping < 2
    [run] = await runs(engine)
    assert run.outcome == "failed"
    assert run.error is not None
    assert run.error.startswith("CancelledError")
    assert await leases(engine) == []
    assert other_tasks() == before
    await ticking.stop()  # stopping twice is harmless


async def _started(engine: AsyncEngine) -> bool:
    return bool(await runs(engine))


def test_the_jobs_and_their_intervals_come_from_settings() -> None:
    settings = Settings.from_env({"CONNECTION_CHECK_HOURS": "2"})
    assert [(job.name, job.every) for job in scheduler.default_jobs(settings)] == [
        ("keep-alive", timedelta(days=1)),
        ("connection-check", timedelta(hours=2)),
        ("alerts", timedelta(minutes=1)),
        ("link-reminders", timedelta(hours=1)),
        ("events-prune", timedelta(days=1)),
    ]
    without_reminders = Settings.from_env({"CONSENT_REMINDER_HOURS": "off"})
    assert "link-reminders" not in [job.name for job in scheduler.default_jobs(without_reminders)]


async def test_run_now_runs_a_job_that_is_not_due_unless_another_process_runs_it(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    work = Work()
    job = Job("job", timedelta(days=1), work)
    assert await scheduler.run_now(deps, job) == {"calls": 1}
    assert await scheduler.run_now(deps, job) == {"calls": 2}
    assert await jobs.claim(deps, job="job", holder="elsewhere", lease_for=LEASE)
    assert await scheduler.run_now(deps, job) is None
    assert [row.counts for row in await runs(engine)] == [{"calls": 1}, {"calls": 2}]


@pytest.mark.parametrize("run_jobs", [True, False])
async def test_the_app_runs_the_real_jobs_while_it_runs_only_when_asked(
    run_jobs: bool, deps: Dependencies, engine: AsyncEngine
) -> None:
    """`serve` asks for them; the tests' and the sandbox's apps do not."""
    settings = dataclasses.replace(web_settings(), scheduled_jobs=True)
    app = create_app(settings, deps=deps, run_jobs=run_jobs)
    before = other_tasks()
    async with app.router.lifespan_context(app):
        if run_jobs:
            await eventually(lambda: _finished(engine, 5), "the jobs never ran")
        else:
            await asyncio.sleep(0.2)
    recorded = [(row.job, row.outcome) for row in await runs(engine)]
    if run_jobs:
        assert sorted(recorded) == [
            ("alerts", "ok"), ("connection-check", "ok"), ("events-prune", "ok"),
            ("keep-alive", "ok"), ("link-reminders", "ok"),
        ]  # fmt: skip
    else:
        assert recorded == []
    assert other_tasks() == before


async def _finished(engine: AsyncEngine, count: int) -> bool:
    return sum(1 for row in await runs(engine) if row.outcome) >= count


JOB_NAMES = ["alerts", "connection-check", "events-prune", "keep-alive", "link-reminders"]


async def recorded_runs(database_url: str) -> list[tuple[str, str | None]]:
    engine = create_engine(database_url)
    try:
        return [(row.job, row.outcome) for row in await runs(engine)]
    finally:
        await engine.dispose()


async def _serve(
    tmp_path: Path, scheduled_jobs: str, *, database_url: str | None = None, count: int = 1
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Serve (`count` processes on one database), wait for the jobs to run, stop with
    SIGTERM: the job runs recorded, by job name, and what each server wrote."""
    env = serve_env(tmp_path, SCHEDULED_JOBS=scheduled_jobs)
    url = database_url or env["DATABASE_URL"]
    env["DATABASE_URL"] = url
    with serving(tmp_path, env, count=count) as servers:
        deadline = time.monotonic() + 30
        if scheduled_jobs == "on":
            while len([run for run in await recorded_runs(url) if run[1]]) < len(JOB_NAMES):
                assert time.monotonic() < deadline, f"no job runs: {await recorded_runs(url)}"
                await asyncio.sleep(0.05)
        await asyncio.sleep(1 + count)  # every server's first tick is over by now
    return sorted(await recorded_runs(url)), [server.output for server in servers]


@pytest.mark.parametrize("scheduled_jobs", ["on", "off"])
async def test_serve_runs_the_jobs_and_stops_cleanly_on_sigterm(
    tmp_path: Path, scheduled_jobs: str
) -> None:
    recorded, [output] = await _serve(tmp_path, scheduled_jobs)
    for trouble in ("Traceback", "Task was destroyed", "was never awaited", "ERROR"):
        assert trouble not in output, output
    if scheduled_jobs == "on":
        assert recorded == [(job, "ok") for job in JOB_NAMES]
        assert (
            "scheduled jobs: keep-alive every 24 h, connection-check every 6 h, "
            "alerts every 1 min, link-reminders every 1 h, events-prune every 24 h"
        ) in output
    else:
        assert recorded == []
        assert "scheduled jobs are off (SCHEDULED_JOBS=off)" in output


async def test_two_serve_processes_on_one_database_run_each_job_once(
    tmp_path: Path, database_url: str
) -> None:
    recorded, outputs = await _serve(tmp_path, "on", database_url=database_url, count=2)

    assert recorded == [(job, "ok") for job in JOB_NAMES]
    finished = [line for output in outputs for line in output.splitlines() if "finished:" in line]
    assert len(finished) == len(JOB_NAMES), outputs
    for output in outputs:
        assert "Traceback" not in output, output
