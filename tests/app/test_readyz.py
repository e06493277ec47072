"""GET /readyz: ready only when the database answers and its schema is current."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.domain import Dependencies
from tests.conftest import POSTGRES_URL
from tests.web_fixtures import BOT, web_settings


async def readyz(database_url: str, deps: Dependencies | None = None) -> httpx.Response:
    settings = dataclasses.replace(web_settings(), database_url=database_url)
    app = create_app(settings, deps=deps)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BOT) as client:
        health = await client.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")
        return await client.get("/readyz")


async def test_ready_on_a_migrated_database(
    engine: AsyncEngine, database_url: str, web_deps: Dependencies
) -> None:
    answer = await readyz(database_url, web_deps)
    assert (answer.status_code, answer.text) == (200, "ready")


async def test_not_ready_before_migrate(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        empty = Path(str(make_url(database_url).database))  # an empty SQLite database
        await asyncio.to_thread(empty.touch)
    answer = await readyz(database_url)
    assert answer.status_code == 503
    assert answer.text == "not ready: database schema out of date\n"


async def test_not_ready_when_the_database_is_unreachable() -> None:
    url = make_url(POSTGRES_URL).set(port=1, password="pw-ready")
    answer = await readyz(url.render_as_string(hide_password=False))
    assert answer.status_code == 503
    assert answer.text == "not ready: database unreachable\n"


async def test_not_ready_without_the_sqlite_file_and_none_is_created(tmp_path: Path) -> None:
    database = tmp_path / "missing.sqlite3"
    answer = await readyz(f"sqlite+aiosqlite:///{database}")
    assert (answer.status_code, answer.text) == (503, "not ready: database missing\n")
    assert not database.exists()
