"""`xero-bot serve` started as an operator starts it: migrated, answering /healthz, then
stopped with SIGTERM, its output kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.settings import generate_encryption_key
from tests.browser import free_port

COMMAND = [sys.executable, "-m", "bot.cli"]
START_SECONDS = 30


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Everything `serve` needs, its Xero and Slack pointed at a closed port."""
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        "PUBLIC_BASE_URL": "https://bot.test",
        "TOKEN_ENCRYPTION_KEYS": generate_encryption_key(),
        "XERO_CLIENT_ID": "client",
        "XERO_CLIENT_SECRET": "secret",
        "XERO_TOKEN_URL": "http://127.0.0.1:9/token",
        "XERO_API_URL": "http://127.0.0.1:9/api",
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        **extra,
    }


@dataclass
class Server:
    port: int
    process: subprocess.Popen[str]
    output: str = ""
    """What it wrote, once it has stopped."""


def migrate(tmp_path: Path, env: dict[str, str]) -> None:
    subprocess.run([*COMMAND, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)


@contextmanager
def serving(tmp_path: Path, env: dict[str, str], *, count: int = 1) -> Iterator[list[Server]]:
    """`count` servers on one (migrated) database, each answering /healthz; on leaving, each
    is stopped with SIGTERM and must have shut down cleanly."""
    migrate(tmp_path, env)
    with ExitStack() as stack:
        servers = [stack.enter_context(_one(tmp_path, env)) for _ in range(count)]
        for server in servers:
            _wait_until_healthy(server)
        yield servers


@contextmanager
def _one(tmp_path: Path, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(port, process)
    try:
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        server.output, _ = process.communicate(timeout=30)
    # uvicorn re-raises the signal it stopped on once it has shut down cleanly
    assert process.returncode in (0, -signal.SIGTERM), server.output
    assert "Application shutdown complete." in server.output


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert server.process.poll() is None, server.process.communicate()[0]
        assert time.monotonic() < deadline, "serve never answered /healthz"
        try:
            if httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=0.5).text == "ok":
                return
        except httpx.TransportError:
            time.sleep(0.05)
