"""The customer's journey in headless Chromium: real servers, real redirects, real cookies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import select

from bot import domain
from bot.app import create_app
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.services import xero_client
from bot.settings import Settings
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import StoreLink
from tests.browser import CHROMIUM_ARGS, PHONE, free_socket, require_chromium, serve
from tests.conftest import ENCRYPTION_KEY, cloudpos_client, new_database_url
from tests.domain_helpers import AGENT, registered

pytestmark = pytest.mark.browser


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    chromium = require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
        yield await context.new_page()
        await browser.close()


async def shoot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=folder / f"{name}.png", full_page=True)


async def test_a_customer_connects_two_of_three_stores_in_a_real_browser(
    page: Page, tmp_path: Path
) -> None:
    cloudpos = CloudPosEmulator(min_interval=0)
    emulator = XeroEmulator(client_id="bot-client", client_secret="bot-secret")
    emulator.add_user(user_id="xero-user-1", email="olive@acme.test", name="Olive Owner")
    emulator.add_organisation("Acme Ltd", plan_class="STANDARD", users=["xero-user-1"])
    emulator.add_organisation("Acme Starter", plan_class="STARTER", users=["xero-user-1"])
    bot_socket, xero_socket = free_socket(), free_socket()
    bot_url = "http://{}:{}".format(*bot_socket.getsockname())
    xero_url = "http://{}:{}".format(*xero_socket.getsockname())
    settings = Settings(
        public_base_url=bot_url,
        token_encryption_keys=(ENCRYPTION_KEY,),
        xero_client_id="bot-client",
        xero_client_secret="bot-secret",
        xero_authorize_url=f"{xero_url}/identity/connect/authorize",
        xero_token_url=f"{xero_url}/identity/connect/token",
        xero_revoke_url=f"{xero_url}/identity/connect/revocation",
        xero_api_url=f"{xero_url}/api",
    )
    shots = tmp_path / "screenshots"
    shots.mkdir()

    async for database_url in new_database_url("sqlite", tmp_path):
        engine = create_engine(database_url)
        await upgrade(engine)
        xero = xero_client(settings)
        deps = Dependencies(
            sessions=session_factory(engine),
            vault=Vault([ENCRYPTION_KEY]),
            cloudpos=cloudpos_client(cloudpos),
            xero=xero,
            public_base_url=bot_url,
        )
        customer = await registered(deps, cloudpos, name="Acme Bikes", stores=4)
        link = await domain.links.issue(
            deps, customer_id=customer.id, store_codes=["S001", "S002", "S003"], actor=AGENT
        )
        async with (
            serve(emulator.app, xero_socket),
            serve(create_app(settings, deps=deps), bot_socket),
        ):
            await page.goto(link.url)
            await expect(page.get_by_role("heading")).to_have_text("Connect your stores to Xero")
            await expect(page.get_by_text("acme bikes store 1")).to_be_visible()
            await expect(page.get_by_text("acme bikes store 3")).to_be_visible()
            await expect(page.get_by_text("acme bikes store 4")).to_have_count(0)
            await shoot(page, shots, "1-landing")

            await page.get_by_role("button", name="Connect to Xero").click()
            await expect(page.get_by_text("Xero emulator")).to_be_visible()
            await page.get_by_label("Acme Ltd — STANDARD").check()
            await page.get_by_label("Acme Starter — STARTER").check()
            await shoot(page, shots, "2-xero-consent")

            await page.get_by_role("button", name="Allow access").click()
            await expect(page.get_by_role("heading")).to_have_text("Select an organisation")
            first = page.get_by_label("acme bikes store 1")
            starter = first.locator("option", has_text="Acme Starter")
            await expect(starter).to_be_disabled()
            await shoot(page, shots, "3-choose")

            standard = await first.locator("option", has_text="Acme Ltd").get_attribute("value")
            assert standard is not None
            third = page.get_by_label("acme bikes store 3")
            for store in (first, page.get_by_label("acme bikes store 2"), third):
                await expect(store).to_have_value(standard)  # the only eligible one
            await third.select_option("")  # "Don't connect this store now"
            await page.get_by_role("button", name="Confirm Selection").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Leave some stores unconnected?"
            )
            await expect(page.get_by_role("alert")).to_contain_text(
                "1 of 3 stores would not be connected: acme bikes store 3 (S003)"
            )
            await expect(third).to_have_value("")  # the choice made is kept
            await shoot(page, shots, "4-leave-unconnected")

            await page.get_by_label("Leave this store unconnected").check()
            await page.get_by_role("button", name="Confirm Selection").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "2 of 3 stores connected"
            )
            await expect(page.get_by_role("heading", level=2, name="Acme Ltd")).to_be_visible()
            await expect(page.get_by_role("status")).to_contain_text(
                "Not connected with this link: acme bikes store 3 (S003)."
            )
            await shoot(page, shots, "5-done")

        async with transaction(session_factory(engine)) as session:
            links = (await session.scalars(select(StoreLink).where(StoreLink.active))).all()
        await xero.aclose()
        await engine.dispose()
    assert sorted(link.store_id for link in links) == [1, 2]
    assert sorted(path.name for path in shots.iterdir()) == [
        "1-landing.png", "2-xero-consent.png", "3-choose.png", "4-leave-unconnected.png",
        "5-done.png",
    ]  # fmt: skip
    assert [c.tenant_name for c in emulator.connections] == ["Acme Ltd"]  # Starter removed
    assert httpx.URL(link.url).host == "127.0.0.1"
