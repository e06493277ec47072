"""Apply and inspect Alembic migrations from code (the CLI and the tests use these)."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def is_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration (the server refuses to start if not)."""

    def read(connection: Connection) -> bool:
        # Alembic says at INFO which backend it found; a check (every command's, every
        # /readyz) is not the place for that line.
        log = logging.getLogger("alembic.runtime.migration")
        level = log.level
        log.setLevel(logging.WARNING)
        try:
            current = set(MigrationContext.configure(connection).get_current_heads())
        finally:
            log.setLevel(level)
        return current == set(ScriptDirectory.from_config(alembic_config()).get_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(read)
