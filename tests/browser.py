"""Real servers on loopback and headless Chromium, for tests that look at pages as people do."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from playwright.async_api import Page, async_playwright, expect
from starlette.types import ASGIApp

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}

expect.set_options(timeout=15_000)
"""A page waits on the bot, Slack's stand-in and the emulators on two busy cores in CI: give
each expectation 15 s, not Playwright's 5 (a passing step still ends as soon as it holds)."""


def require_chromium() -> str:
    """The browser's path; outside CI a missing browser skips the test with the reason."""
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true: browser tests must run")
        pytest.skip(message)
    return path


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    """A port nothing listens on just now, for a server started in another process."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


@asynccontextmanager
async def serve(app: ASGIApp, sock: socket.socket) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on an already bound loopback socket; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start")
        host, port = sock.getsockname()
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def phone_page(app: ASGIApp) -> AsyncIterator[tuple[str, Page, list[str]]]:
    """`app` served on loopback and a phone-sized page in Chromium: its base URL, the page,
    and the JavaScript errors the page logged (a test asserts there were none)."""
    chromium = require_chromium()
    problems: list[str] = []
    async with serve(app, free_socket()) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await (await browser.new_context(viewport=PHONE)).new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            yield url, page, problems
        finally:
            await browser.close()
