"""Engines and sessions for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

READ_ONLY = {"sqlite_read_only": True}
"""Execution options for a transaction that only reads.

On SQLite every other transaction takes the write lock at BEGIN (`BEGIN IMMEDIATE`): one
that reads and then writes would otherwise fail at once with "database is locked" when
another connection wrote in between. Readers never wait in WAL mode. PostgreSQL ignores
this; there `SELECT … FOR UPDATE` takes row locks where they matter.
"""


POOL_SIZE = 20
"""PostgreSQL connections a process keeps open. Past the pool, connections are opened for one
use and closed again (up to `MAX_OVERFLOW` more): with SQLAlchemy's default of 5, a replica
answering the sync service's token calls 16 at a time opened a new connection for most of
them and served 122 requests a second instead of 348 (bench/sync_tokens.py)."""
MAX_OVERFLOW = 10


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs;
    PostgreSQL a pool sized for a server's concurrent requests."""
    url = make_url(database_url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession], *, read_only: bool = False
) -> AsyncIterator[AsyncSession]:
    """One session in one transaction: committed on success, rolled back on any error."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options=READ_ONLY if read_only else {})
        yield session


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock up
    # front; SQLAlchemy's documented recipe hands BEGIN back to us.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def missing_sqlite_file(database_url: str) -> Path | None:
    """The SQLite file `database_url` names when it does not exist yet (SQLite would create
    an empty one on connecting, so commands that need the schema check this first)."""
    url = make_url(database_url)
    if not is_sqlite(url) or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    return None if path.exists() else path.absolute()


def describe_failure(error: BaseException, database_url: str) -> str:
    """One line for the operator: which database, and the driver's own reason, never the
    password and never SQLAlchemy's wrapper class names."""
    url = make_url(database_url)
    text = str(getattr(error, "orig", None) or error).strip()
    reason = text.splitlines()[0] if text else type(error).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    where = url.render_as_string(hide_password=True)
    return (
        f"cannot use the database {where}: {reason}. Check that it is running and reachable "
        "and that the database exists, or fix DATABASE_URL."
    )
