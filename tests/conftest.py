"""Shared fixtures: a real database per test (SQLite and PostgreSQL), a controllable clock,
and the sandbox's Cloud POS and Xero emulators mounted into the bot's real clients."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clients.cloudpos import CloudPosClient
from bot.clients.xero import XeroClient
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.settings import generate_encryption_key
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


class Clock:
    """A clock tests move by hand; the domain reads time only through it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def _postgres_admin() -> asyncpg.Connection:
    url = make_url(POSTGRES_URL)
    try:
        return await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database,
            password=url.password, timeout=5,
        )  # fmt: skip
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL is not reachable at {url.host}:{url.port}: {error}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)


async def new_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of `backend`, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite3'}"
        return
    name = f"xerobot_test_{uuid.uuid4().hex[:12]}"
    admin = await _postgres_admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async for url in new_database_url(request.param, tmp_path):
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated database: every test also exercises the migration."""
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


BOLT_FAILURES = ("didn't call ack()", "Unhandled request")


class _BoltFailures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if any(failure in message for failure in BOLT_FAILURES):
            self.seen.append(message[:200])


@pytest.fixture(autouse=True)
def _bolt_answers_every_request() -> Iterator[None]:
    """Bolt logs these when Slack got a 404 after 3 s instead of our answer: never acceptable."""
    watcher = _BoltFailures()
    logging.getLogger().addHandler(watcher)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(watcher)
    if watcher.seen:
        pytest.fail(f"Bolt did not get an answer from a listener: {watcher.seen}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Make the PostgreSQL coverage visible: CI must show these ran, not skipped."""
    stats = terminalreporter.stats
    ran = [report for report in stats.get("passed", []) if "postgres" in report.keywords]
    skipped = [report for report in stats.get("skipped", []) if "postgres" in report.keywords]
    terminalreporter.write_line(f"PostgreSQL tests: {len(ran)} passed, {len(skipped)} skipped")


ENCRYPTION_KEY = generate_encryption_key()
PUBLIC_BASE_URL = "https://bot.test"
CLOUDPOS_URL = "http://cloudpos.test"
XERO = "http://xero.test"
XERO_AUTHORIZE_URL = f"{XERO}/identity/connect/authorize"
XERO_TOKEN_URL = f"{XERO}/identity/connect/token"
XERO_REVOKE_URL = f"{XERO}/identity/connect/revocation"
XERO_API_URL = f"{XERO}/api"
CLIENT_ID, CLIENT_SECRET = "bot-client", "bot-client-secret"


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def cloudpos() -> CloudPosEmulator:
    """Cloud POS without its rate limit: the clients in tests do not pace themselves."""
    return CloudPosEmulator(min_interval=0)


@pytest.fixture
def emulator() -> XeroEmulator:
    return XeroEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, sleep=_no_sleep)


def cloudpos_client(cloudpos: CloudPosEmulator) -> CloudPosClient:
    """The bot's Cloud POS client on the emulator, never pacing or sleeping."""
    return CloudPosClient(
        base_url=CLOUDPOS_URL,
        sleep=_no_sleep,
        min_interval=0,
        transport=httpx.ASGITransport(app=cloudpos.app),
    )


def make_deps(
    engine: AsyncEngine, clock: Clock, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> Dependencies:
    """A connection service on `engine` talking to the emulators, never sleeping."""
    return Dependencies(
        sessions=session_factory(engine),
        vault=Vault([ENCRYPTION_KEY]),
        cloudpos=cloudpos_client(cloudpos),
        xero=XeroClient(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=f"{PUBLIC_BASE_URL}/xero/callback",
            scopes=("offline_access", "accounting.settings.read", "accounting.contacts.read"),
            authorize_url=XERO_AUTHORIZE_URL,
            token_url=XERO_TOKEN_URL,
            revoke_url=XERO_REVOKE_URL,
            api_url=XERO_API_URL,
            transport=emulator.transport(),
            sleep=_no_sleep,
        ),
        public_base_url=PUBLIC_BASE_URL,
        clock=clock,
    )


@pytest.fixture
def deps(
    engine: AsyncEngine, clock: Clock, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> Dependencies:
    return make_deps(engine, clock, cloudpos, emulator)


pytest_plugins = ["tests.web_fixtures", "tests.slack_fixtures"]
