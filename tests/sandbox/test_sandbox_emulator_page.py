"""The Xero emulator's switches, reached from the sandbox console in headless Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from bot.sandbox_server import build_sandbox
from tests.browser import CHROMIUM_ARGS, free_socket, require_chromium, serve

pytestmark = pytest.mark.browser


async def open_emulator_from_console(console: Page, base_url: str) -> Page:
    await console.goto(f"{base_url}/sandbox/")
    async with console.expect_popup() as opened:
        await console.get_by_role("link", name="Xero emulator").click()
    page = await opened.value
    await expect(page.get_by_role("heading", name="Faults")).to_be_visible()
    return page


async def test_fault_switches_and_disconnect_from_the_sandbox_ui(tmp_path: Path) -> None:
    chromium = require_chromium()
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sandbox = build_sandbox(
        base_url=base_url, database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    )
    (standard,) = [o for o in sandbox.xero.organisations if o.name == "Acme Bikes Ltd"]
    sandbox.xero.authorise(
        user_id="xero-olive",
        tenant_ids=[standard.tenant_id],
        redirect_uri=f"{base_url}/xero/callback",
        state="seeded",
    )
    api = f"{base_url}/xero-emulator/api/connections"

    async with serve(sandbox.app, sock), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await open_emulator_from_console(await browser.new_page(), base_url)
        faults = page.locator("#faults")
        await expect(faults).to_contain_text("No faults: Xero answers normally.")

        await page.get_by_label("Endpoint").select_option("connections")
        await page.get_by_label("Answer").select_option(label="429 Too Many Requests")
        await page.get_by_label("Retry-After (s)").fill("2")
        await page.get_by_role("button", name="Add fault").click()
        await page.get_by_label("Answer").select_option(label="503 Service Unavailable")
        await page.get_by_role("button", name="Add fault").click()
        await page.get_by_label("Answer").select_option(label="no error, only slow")
        await page.get_by_label("Delay (s)").fill("0.6")
        await page.get_by_role("button", name="Add fault").click()
        await expect(faults.get_by_role("row")).to_have_count(4)
        await page.screenshot(path=tmp_path / "faults.png")

        async with httpx.AsyncClient(timeout=10) as http:
            rate_limited = await http.get(api)
            failing = await http.get(api)
            started = time.monotonic()
            slow = await http.get(api)
            took = time.monotonic() - started
            normal = await http.get(api)
        assert (rate_limited.status_code, rate_limited.headers["retry-after"]) == (429, "2")
        assert failing.status_code == 503
        assert slow.status_code == 401  # no token: handled normally, only late
        assert took >= 0.6
        assert normal.status_code == 401
        await page.reload()
        await expect(faults).to_contain_text("No faults: Xero answers normally.")

        connections = page.locator("#connections")
        await expect(connections).to_contain_text("Acme Bikes Ltd")
        await page.get_by_role("button", name="Disconnect Cloud POS from Acme Bikes Ltd").click()
        await expect(connections).to_contain_text("No connections.")
        await page.screenshot(path=tmp_path / "disconnected.png")
        await browser.close()

    assert sandbox.xero.connections == []
