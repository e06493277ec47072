"""The Slack console's "Run jobs now": it awaits the jobs callback it was given, reports a line
per job, and shows what the jobs posted; without a callback there is no button."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser import phone_page
from tests.sandbox.console_stand_in import ALERTS, Console, console_over_stand_in, texts

LINES = ["keep-alive: grants_refreshed 0", "connection-check: grants_checked 1, gone 1"]


class Jobs:
    """Stands in for the app's jobs: each run posts an alert; `gate` holds a run until set."""

    def __init__(self) -> None:
        self.console: Console | None = None
        self.runs = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> list[str]:
        assert self.console is not None
        self.runs += 1
        await self.gate.wait()
        await self.console.bot.alert(f"Run {self.runs}: Acme Bikes needs reconnecting")
        return LINES


@pytest.fixture
def jobs() -> Jobs:
    return Jobs()


@pytest.fixture
async def console(jobs: Jobs) -> AsyncIterator[Console]:
    async with console_over_stand_in(run_jobs=jobs) as console:
        jobs.console = console
        yield console


async def test_run_jobs_now_runs_them_and_says_how_each_went(console: Console, jobs: Jobs) -> None:
    ran = await console.post("jobs")
    assert ran.status_code == 200, ran.text
    assert ran.json() == {"lines": LINES}
    assert jobs.runs == 1
    (alert,) = (await console.state(channel=ALERTS))["messages"]
    assert alert["text"] == "Run 1: Acme Bikes needs reconnecting"
    assert (await console.state())["messages"] == []

    again = await console.post("jobs")
    assert again.json() == {"lines": LINES}
    assert texts((await console.state(channel=ALERTS))["messages"]) == [
        "Run 1: Acme Bikes needs reconnecting",
        "Run 2: Acme Bikes needs reconnecting",
    ]


async def test_two_clicks_at_once_run_the_jobs_one_after_the_other(
    console: Console, jobs: Jobs
) -> None:
    jobs.gate.clear()
    first = asyncio.create_task(console.post("jobs"))
    second = asyncio.create_task(console.post("jobs"))
    await asyncio.sleep(0.2)
    assert jobs.runs == 1  # the second waits for the first to end
    jobs.gate.set()
    answers = await asyncio.gather(first, second)
    assert [answer.json() for answer in answers] == [{"lines": LINES}] * 2
    assert jobs.runs == 2


async def test_a_failing_callback_is_a_500_without_a_trace_and_users_are_checked(
    console: Console, jobs: Jobs
) -> None:
    async def broken() -> list[str]:
        raise RuntimeError("the database is gone")

    async with console_over_stand_in(run_jobs=broken) as failing:
        answer = await failing.post("jobs")
    assert answer.status_code == 500
    assert answer.json() == {"error": "the console failed; see the server log"}
    nobody = await console.http.post("/sandbox/api/jobs", json={"user": "U0NOBODY"})
    assert nobody.status_code == 400
    assert jobs.runs == 0


async def test_without_jobs_there_is_no_button_and_no_run() -> None:
    async with console_over_stand_in() as console:
        page = (await console.http.get("/sandbox/")).text
        answer = await console.post("jobs")
    assert "Run jobs now" not in page
    assert 'id="run-jobs"' not in page
    assert answer.status_code == 404
    assert answer.json() == {"error": "this console was given no jobs to run"}


@pytest.mark.browser
async def test_run_jobs_now_in_a_real_browser(console: Console, jobs: Jobs, tmp_path: Path) -> None:
    async with phone_page(console.app) as (url, page, problems):
        await page.goto(f"{url}/sandbox/?channel={ALERTS}")
        await expect(page.get_by_text("No messages yet.")).to_be_visible()

        jobs.gate.clear()
        run = page.get_by_role("button", name="Run jobs now")
        await run.click()
        status = page.get_by_role("status", name="Scheduled jobs")
        await expect(status).to_have_text("Running the jobs…")
        await expect(run).to_be_disabled()
        jobs.gate.set()
        await expect(status.get_by_role("listitem")).to_have_text(LINES)
        await expect(run).to_be_enabled()
        await expect(page.get_by_text("Run 1: Acme Bikes needs reconnecting")).to_be_visible()
        await page.screenshot(path=tmp_path / "01-jobs-ran.png")
    assert jobs.runs == 1
    assert problems == []
