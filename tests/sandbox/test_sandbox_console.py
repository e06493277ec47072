"""The sandbox's console wired to the real bot, over real HTTP: its alerts channel, the App
Home, and "Run jobs now" running the bot's scheduled jobs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot import scheduler
from bot.domain import Dependencies
from bot.domain import jobs as domain_jobs
from bot.sandbox_server import ALERTS, CHANNEL, Sandbox, build_sandbox, run_job
from storage.engine import create_engine
from storage.migrate import upgrade
from tests.browser import free_socket, serve

AGENT, OUTSIDER = "U0AGENT", "U0OUTSIDER"


@dataclass
class Served:
    sandbox: Sandbox
    http: httpx.AsyncClient

    async def state(self, user: str = AGENT, **params: Any) -> dict[str, Any]:
        response = await self.http.get("/sandbox/api/state", params={"user": user, **params})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    database = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.sqlite3'}"
    engine = create_engine(database)
    await upgrade(engine)
    await engine.dispose()
    sandbox = build_sandbox(base_url=base_url, database_url=database)
    async with serve(sandbox.app, sock), httpx.AsyncClient(base_url=base_url) as http:
        yield Served(sandbox, http)


async def test_the_bot_alerts_in_a_channel_the_console_shows(served: Served) -> None:
    settings = served.sandbox.settings
    assert settings.slack_alerts_channel == ALERTS[0]
    assert served.sandbox.workspace.channels[ALERTS[0]] == ALERTS[1]
    page = (await served.http.get("/sandbox/")).text
    assert f'data-channel="{ALERTS[0]}"' in page
    assert f'data-channel="{CHANNEL}"' in page

    bot = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    posted = await bot.chat_postMessage(channel=settings.slack_alerts_channel, text="Stores broke")
    await bot.chat_update(channel=ALERTS[0], ts=posted["ts"], text="Stores broke (2)")
    await bot.chat_postMessage(channel=ALERTS[0], thread_ts=posted["ts"], text="York is back")

    (alert,) = (await served.state(channel=ALERTS[0]))["messages"]
    assert (alert["text"], alert["edited"]) == ("Stores broke (2)", True)
    assert [reply["text"] for reply in alert["replies"]] == ["York is back"]
    assert (await served.state())["messages"] == []
    assert (await served.state(channel=CHANNEL))["channel"]["name"] == "helpdesk"


async def test_the_home_tab_shows_what_the_bot_publishes_for_each_person(served: Served) -> None:
    workspace = served.sandbox.workspace
    for count, user in enumerate((AGENT, OUTSIDER), start=1):
        opened = await served.http.post("/sandbox/api/home", json={"user": user})
        assert opened.status_code == 200, opened.text
        await workspace.wait_for("views.publish", count=count)
    header = (await served.state(AGENT))["home"]["blocks"][0]
    assert (header["type"], header["text"]["text"]) == ("header", "What needs attention")
    (line,) = (await served.state(OUTSIDER))["home"]["blocks"]
    assert line["text"]["text"].startswith("This is the helpdesk's Xero bot")
    assert [call.error for call in workspace.calls_to("views.publish")] == [None, None]


async def test_run_jobs_now_runs_every_scheduled_job_once_and_records_it(served: Served) -> None:
    settings = served.sandbox.settings
    names = [job.name for job in scheduler.default_jobs(settings)]
    assert {"keep-alive", "connection-check"} <= set(names)
    deps = served.sandbox.app.state.deps
    assert await domain_jobs.last_runs(deps) == ()  # nothing runs on a schedule here

    ran = await served.http.post("/sandbox/api/jobs", json={"user": AGENT})
    assert ran.status_code == 200, ran.text
    lines = ran.json()["lines"]
    assert [line.split(": ", 1)[0] for line in lines] == names
    counted = re.compile(r"[a-z-]+: ([a-z_]+ \d+(, [a-z_]+ \d+)*|done)")
    assert all(counted.fullmatch(line) for line in lines), lines  # not "failed (…)"
    (connection_check,) = [line for line in lines if line.startswith("connection-check: ")]
    assert "grants_checked 0" in connection_check
    runs = {run.job: run for run in await domain_jobs.last_runs(deps)}
    assert sorted(runs) == sorted(names)
    assert {run.outcome for run in runs.values()} == {domain_jobs.OK}


async def test_a_job_that_fails_or_is_running_elsewhere_is_a_line(served: Served) -> None:
    deps = served.sandbox.app.state.deps

    async def broken(_deps: Dependencies) -> None:
        raise RuntimeError("Xero is down")

    job = scheduler.Job("broken", timedelta(hours=1), broken)
    assert await run_job(deps, job) == "broken: failed (RuntimeError: Xero is down)"
    last = await domain_jobs.last_run(deps, job="broken")
    assert last is not None
    assert last.outcome == domain_jobs.FAILED  # recorded like a scheduled run's failure

    assert await domain_jobs.claim(deps, job="broken", holder="elsewhere", lease_for=timedelta(1))
    assert await run_job(deps, job) == "broken: not run, it is running already"
