"""`xero-bot serve` as an operator starts it: one log format for our lines and uvicorn's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.serving import serve_env, serving


def run_server(tmp_path: Path, **extra: str) -> list[str]:
    """Migrate, serve, ask /healthz, stop with SIGTERM: the lines the server wrote."""
    with serving(tmp_path, serve_env(tmp_path, **extra)) as [server]:
        pass
    return server.output.splitlines()


def test_serve_logs_json_lines_for_ours_and_uvicorns(tmp_path: Path) -> None:
    lines = run_server(tmp_path, LOG_FORMAT="json")
    entries = [json.loads(line) for line in lines]
    assert {entry["logger"] for entry in entries} >= {"uvicorn.error", "uvicorn.access"}
    assert all(set(entry) == {"time", "level", "logger", "message"} for entry in entries)
    messages = [entry["message"] for entry in entries]
    assert "Application startup complete." in messages
    assert any("GET /healthz" in message for message in messages)


def test_serve_logs_one_text_format_and_no_slack_token_warning(tmp_path: Path) -> None:
    lines = run_server(tmp_path)
    pattern = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) [\w.]+ "
    assert lines
    for line in lines:
        assert re.match(pattern, line), line
    assert not any("will be unused" in line for line in lines)  # Bolt: `token` will be…


@pytest.mark.parametrize("value", ["xml", "JSONL"])
def test_an_unknown_log_format_is_refused(tmp_path: Path, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env=serve_env(tmp_path, LOG_FORMAT=value),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"xero-bot: LOG_FORMAT must be text or json, got {value.lower()!r}."
    )
    assert not (tmp_path / "bot.sqlite3").exists()
