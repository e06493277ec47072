"""Peak memory of the running sandbox while an unsigned 700 MiB body is streamed at it.

    python bench/body_limit.py [--mib 700]

Starts `xero-bot sandbox` on a free port, streams the body to /slack/events and to
/connect/<token> without a Content-Length, and prints the server's peak RSS (VmHWM) before
and after, and what it answered.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def body(mib: int) -> Iterator[bytes]:
    chunk = b"a" * (1024 * 1024)
    for _ in range(mib):
        yield chunk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=700)
    mib = parser.parse_args().mib
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"peak RSS at start: {peak_rss_mib(server.pid):.0f} MiB")
            for path in ("/slack/events", "/connect/not-a-token"):
                started = time.monotonic()
                try:
                    answer = httpx.post(f"{base}{path}", content=body(mib), timeout=60)
                    outcome = f"HTTP {answer.status_code}"
                except httpx.HTTPError as error:
                    outcome = f"connection closed by the server ({type(error).__name__})"
                took = time.monotonic() - started
                print(
                    f"{mib} MiB streamed to {path}: {outcome} after {took:.2f}s; "
                    f"peak RSS now {peak_rss_mib(server.pid):.0f} MiB"
                )
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
