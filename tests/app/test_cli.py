"""The `xero-bot` command as an operator runs it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.domain import health
from bot.domain.errors import ExternalServiceError
from bot.domain.results import ConnectionCheck
from bot.settings import ALL_SERVICE_SETTINGS, generate_encryption_key
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import is_current
from storage.models import JobLease
from tests.conftest import (
    POSTGRES_URL,
    XERO_API_URL,
    XERO_AUTHORIZE_URL,
    XERO_REVOKE_URL,
    XERO_TOKEN_URL,
    new_database_url,
)


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """`main` installs the CLI's log handler; the next test starts without it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "bot.sqlite3"
    settings = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "PUBLIC_BASE_URL": "https://bot.test",
        "TOKEN_ENCRYPTION_KEYS": generate_encryption_key(),
        "XERO_CLIENT_ID": "client",
        "XERO_CLIENT_SECRET": "secret",
        "XERO_AUTHORIZE_URL": XERO_AUTHORIZE_URL,
        "XERO_TOKEN_URL": XERO_TOKEN_URL,
        "XERO_REVOKE_URL": XERO_REVOKE_URL,
        "XERO_API_URL": XERO_API_URL,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return database


def test_migrate_then_maintenance_commands(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert environment.exists()
    assert main(["migrate"]) == 0  # idempotent
    assert main(["rotate-keys"]) == 0
    assert main(["keep-alive", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "Database schema is up to date." in out
    assert "Re-encrypted 0 Cloud POS API keys and 0 Xero grants" in out
    assert "Refreshed 0 Xero grants; 0 need the customer to reconnect; 0 failed" in out
    assert "Revoked 0 grants left with no organisation (0 could not be)." in out


def test_a_missing_setting_is_one_line_and_exit_2(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("XERO_CLIENT_SECRET")
    assert main(["keep-alive"]) == 2
    assert capsys.readouterr().err.strip() == (
        "xero-bot: XERO_CLIENT_SECRET is not set. "
        "Generate it for your app at developer.xero.com (My Apps)."
    )


def test_generate_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) == 44
    assert key.endswith("=")


SLACK = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "signing-secret"}


@pytest.mark.postgres
async def test_a_postgresql_url_without_driver_is_used_with_asyncpg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async for url in new_database_url("postgresql", tmp_path):
        plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        monkeypatch.setenv("DATABASE_URL", plain)
        assert await asyncio.to_thread(main, ["migrate"]) == 0
        assert capsys.readouterr().out.strip() == "Database schema is up to date."
        engine = create_engine(url)
        try:
            assert await is_current(engine)
        finally:
            await engine.dispose()


@pytest.mark.postgres
def test_a_missing_database_is_named_with_the_servers_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_url(POSTGRES_URL).set(database="xerobot_never_created", password="pw-123")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert 'database "xerobot_never_created" does not exist' in err
    assert "Check that it is running and reachable" in err
    assert "DBAPIError" not in err
    assert "pw-123" not in err


def test_serve_names_every_missing_setting_at_once(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("XERO_CLIENT_ID")
    monkeypatch.setenv("PUBLIC_BASE_URL", "bot.test")
    assert main(["serve"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "xero-bot: 4 settings need fixing:",
        "  - XERO_CLIENT_ID is not set. Copy it from your app at developer.xero.com (My Apps).",
        "  - SLACK_BOT_TOKEN is not set. Copy the xoxb- token from your Slack app's "
        "OAuth & Permissions page.",
        "  - SLACK_SIGNING_SECRET is not set. Copy it from your Slack app's Basic Information "
        "page.",
        "  - PUBLIC_BASE_URL must be an http(s) URL, got 'bot.test'.",
    ]


@pytest.mark.parametrize("command", ["serve", "rotate-keys", "keep-alive"])
def test_a_command_before_migrate_creates_no_database_file(
    command: str,
    environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    assert main([command]) == 2
    assert not environment.exists()
    assert capsys.readouterr().err.strip() == (
        f"xero-bot: There is no database at {environment}: run `xero-bot migrate` first to "
        "create it, or set DATABASE_URL to the database to use."
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"xero-bot {metadata.version('xero-bot')}"


@pytest.mark.parametrize(
    ("command", "required", "optional"),
    [
        ("serve", [*ALL_SERVICE_SETTINGS, *SLACK], ["DATABASE_URL", "SLACK_APP_TOKEN"]),
        ("keep-alive", ALL_SERVICE_SETTINGS, ["DATABASE_URL", "CLOUDPOS_API_URL"]),
        ("rotate-keys", ["TOKEN_ENCRYPTION_KEYS"], ["DATABASE_URL"]),
        ("migrate", [], ["DATABASE_URL", "LOG_FORMAT"]),
    ],
)
def test_command_help_lists_the_variables_it_reads(
    command: str,
    required: list[str],
    optional: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    required_part, _, optional_part = out.partition("  optional:")
    for name in required:
        assert f"    {name} " in required_part
    for name in optional:
        assert f"    {name} " in optional_part


def _ours(err: str) -> list[str]:
    """stderr without the log lines (the schema check logs Alembic's)."""
    return [line for line in err.splitlines() if not line[:4].isdigit()]


def _job_runs(database: Path) -> list[tuple[str, str | None, str | None]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT job, outcome, error FROM job_runs ORDER BY id").fetchall()


def test_check_connections_prints_a_line_per_count_and_records_the_run(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["check-connections"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{field.name.replace('_', ' ')}: 0" for field in fields(ConnectionCheck)]
    assert lines[0] == "grants checked: 0"
    assert _job_runs(environment) == [("connection-check", "ok", None)]


def test_a_connection_check_that_fails_is_one_line_and_exit_1(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def failing(_deps: object, **_options: object) -> ConnectionCheck:
        raise ExternalServiceError("Xero is not answering. Try again later.", retryable=True)

    assert main(["migrate"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(health, "check_connections", failing)
    assert main(["check-connections"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert _ours(captured.err) == [
        "xero-bot: the connection check failed: Xero is not answering. Try again later."
    ]
    assert _job_runs(environment) == [
        (
            "connection-check",
            "failed",
            "ExternalServiceError: Xero is not answering. Try again later.",
        )
    ]


def test_check_connections_while_another_process_runs_it_is_one_line_and_exit_1(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    capsys.readouterr()

    async def taken() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{environment}")
        try:
            async with transaction(session_factory(engine)) as session:
                session.add(
                    JobLease(
                        job="connection-check",
                        holder="serve-replica",
                        expires_at=datetime.now(UTC) + timedelta(minutes=5),
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(taken())
    assert main(["check-connections"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert _ours(captured.err) == [
        "xero-bot: another process is running the connection check right now; try again "
        "once it has finished."
    ]
    assert _job_runs(environment) == []


def test_check_connections_before_migrate_creates_no_database_file(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-connections"]) == 2
    assert not environment.exists()
    assert "run `xero-bot migrate` first" in capsys.readouterr().err


def test_check_connections_and_serve_help_list_the_variables_they_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["check-connections", "--help"])
    required_part, _, optional_part = capsys.readouterr().out.partition("  optional:")
    for name in ALL_SERVICE_SETTINGS:
        assert f"    {name} " in required_part
    assert "    DATABASE_URL " in optional_part
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    _, _, optional_part = capsys.readouterr().out.partition("  optional:")
    assert "    SCHEDULED_JOBS " in optional_part
    assert "    CONNECTION_CHECK_HOURS " in optional_part
