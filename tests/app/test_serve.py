"""`xero-bot serve` as an operator starts it: one log format for our lines and uvicorn's."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.settings import generate_encryption_key
from tests.browser import free_port


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        "PUBLIC_BASE_URL": "https://bot.test",
        "TOKEN_ENCRYPTION_KEYS": generate_encryption_key(),
        "XERO_CLIENT_ID": "client",
        "XERO_CLIENT_SECRET": "secret",
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        **extra,
    }


def run_server(tmp_path: Path, **extra: str) -> list[str]:
    """Migrate, serve, ask /healthz, stop with SIGTERM: the lines the server wrote."""
    env = serve_env(tmp_path, **extra)
    command = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*command, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "serve never answered /healthz"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).text == "ok":
                    break
            except httpx.TransportError:
                time.sleep(0.05)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    # uvicorn re-raises the signal it stopped on once it has shut down cleanly
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete." in output
    return output.splitlines()


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
