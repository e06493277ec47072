"""The API over real HTTP through the ASGI app, on SQLite and PostgreSQL, with a key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from bot import domain
from bot.app import create_app
from bot.domain import Dependencies
from tests.web_fixtures import BOT, web_settings


@pytest.fixture
def api_app(web_deps: Dependencies) -> Starlette:
    return create_app(web_settings(), deps=web_deps)


@pytest.fixture
async def api_key(web_deps: Dependencies) -> str:
    return await domain.api_keys.create(web_deps, name="pos-sync", actor="test")


@pytest.fixture
async def api(api_app: Starlette, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The sync service: its key on every request."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api_app),
        base_url=BOT,
        headers={"Authorization": f"Bearer {api_key}"},
    ) as client:
        yield client
