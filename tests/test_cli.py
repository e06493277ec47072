"""The `xero-bot` command as an operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import generate_encryption_key
from tests.fakes import XERO_API_URL, XERO_AUTHORIZE_URL, XERO_REVOKE_URL, XERO_TOKEN_URL


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
