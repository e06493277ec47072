"""`xero-bot sandbox` as a person starts it: up quickly on a fresh database, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.browser import free_socket

STARTUP_LIMIT = 5.0


def start_sandbox(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_until_healthy(port: int, process: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 30:
        assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the sandbox never answered /healthz")


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM])
def test_the_sandbox_starts_fast_and_stops_cleanly(tmp_path: Path, stop_with: int) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = start_sandbox(tmp_path, port)
    try:
        took = wait_until_healthy(port, process)
        console = httpx.get(f"http://127.0.0.1:{port}/sandbox/", timeout=5)
        process.send_signal(stop_with)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    print(f"sandbox answered /healthz after {took:.2f}s")
    assert took < STARTUP_LIMIT, f"took {took:.2f}s"
    assert console.status_code == 200
    assert "Slack console" in console.text
    assert process.returncode == 0, output
    assert f"Open http://127.0.0.1:{port}/sandbox/" in output
    assert "Traceback" not in output
