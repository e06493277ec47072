"""The `xero-bot` command as an operator runs it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.settings import ALL_SERVICE_SETTINGS, generate_encryption_key
from storage.engine import create_engine
from storage.migrate import is_current
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
