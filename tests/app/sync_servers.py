"""The Xero emulator served over real HTTP, and `serve`'s environment pointed at it, for tests
that run `xero-bot serve` processes (tests/app/serving.py) which refresh tokens at Xero."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from sandbox.xero_emulator import XeroEmulator
from tests.app.serving import serve_env
from tests.conftest import CLIENT_ID, CLIENT_SECRET, ENCRYPTION_KEY

START_SECONDS = 10


@contextmanager
def emulator_over_http(emulator: XeroEmulator) -> Iterator[str]:
    """`emulator.app` served by uvicorn on a random loopback port, in a thread of its own
    (its own event loop), until the block ends; yields its root URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(emulator.app, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])),
        name="xero-emulator",
        daemon=True,
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not server.started:
            assert thread.is_alive(), "the Xero emulator's server stopped as it started"
            assert time.monotonic() < deadline, "the Xero emulator's server never started"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def xero_env(tmp_path: Path, *, database_url: str, xero: str, **extra: str) -> dict[str, str]:
    """`serve_env` on `database_url`, with the tests' encryption key and Xero client (so it
    reads what `make_deps` stored), Xero at `xero`, and no scheduled jobs."""
    return serve_env(
        tmp_path,
        DATABASE_URL=database_url,
        TOKEN_ENCRYPTION_KEYS=ENCRYPTION_KEY,
        XERO_CLIENT_ID=CLIENT_ID,
        XERO_CLIENT_SECRET=CLIENT_SECRET,
        XERO_AUTHORIZE_URL=f"{xero}/identity/connect/authorize",
        XERO_TOKEN_URL=f"{xero}/identity/connect/token",
        XERO_REVOKE_URL=f"{xero}/identity/connect/revocation",
        XERO_API_URL=f"{xero}/api",
        SCHEDULED_JOBS="off",
        **extra,
    )


def refreshes(emulator: XeroEmulator) -> list[str]:
    """The refresh tokens the emulator was asked to refresh with, in order: one per refresh."""
    return [
        request["refresh_token"]
        for request in list(emulator.token_requests)
        if request.get("grant_type") == "refresh_token"
    ]
