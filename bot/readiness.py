"""GET /readyz: the database answers and its schema is current (GET /healthz is liveness).

The check uses its own engine without a pool, so a probe neither waits behind nor holds
one of the bot's connections. The answer says only what is wrong; the details (which host,
the driver's reason) go to the log.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from storage.engine import create_engine, describe_failure, missing_sqlite_file
from storage.migrate import is_current

log = logging.getLogger(__name__)


class Readiness:
    def __init__(self, database_url: str, *, timeout: float = 5.0) -> None:
        self._database_url = database_url
        self._timeout = timeout
        self._engine: AsyncEngine | None = None

    async def check(self) -> str | None:
        """None when ready, else what is wrong, in a few words."""
        if missing_sqlite_file(self._database_url) is not None:
            log.warning("not ready: the SQLite database file does not exist (xero-bot migrate)")
            return "database missing"
        if self._engine is None:
            self._engine = create_engine(self._database_url, poolclass=NullPool)
        try:
            async with asyncio.timeout(self._timeout):
                current = await is_current(self._engine)
        except (OSError, SQLAlchemyError, TimeoutError) as error:
            log.warning("not ready: %s", describe_failure(error, self._database_url))
            return "database unreachable"
        return None if current else "database schema out of date"

    async def endpoint(self, _request: Request) -> Response:
        problem = await self.check()
        if problem is None:
            return PlainTextResponse("ready")
        return PlainTextResponse(f"not ready: {problem}\n", status_code=503)

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
