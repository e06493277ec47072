"""The README's journey in the sandbox, in headless Chromium: console, consent pages, emulators."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import select

from bot.sandbox_server import DEMO_KEY, build_sandbox
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import Store, StoreLink, StoreSetup
from tests.browser import CHROMIUM_ARGS, PHONE, free_socket, require_chromium, serve
from tests.sandbox.journey_setup import set_up_posting

pytestmark = pytest.mark.browser
README = Path(__file__).resolve().parents[2] / "README.md"


def tour_commands(step: int) -> list[str]:
    """The `/xero …` commands the README's sandbox tour types in `step`, in order.

    The test types these (not its own copy), so a tour step that asks someone to press a
    button they cannot see fails here.
    """
    tour = README.read_text(encoding="utf-8").split("A short tour:", 1)[1]
    found = re.search(rf"^{step}\. (.*?)(?=^\d+\. |^$)", tour, re.MULTILINE | re.DOTALL)
    assert found is not None, f"the README's tour has no step {step}"
    return re.findall(r"`(/xero [^`]+)`", found.group(1))


async def say(page: Page, text: str) -> None:
    box = page.get_by_label("Message", exact=True)
    await box.fill(text)
    await box.press("Enter")


async def test_the_readme_journey_in_a_real_browser(tmp_path: Path) -> None:
    chromium = require_chromium()
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    database = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.sqlite3'}"
    sandbox = build_sandbox(base_url=base_url, database_url=database)
    migrating = create_engine(database)
    await upgrade(migrating)
    await migrating.dispose()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    step = iter(range(1, 100))

    async def shoot(page: Page, name: str) -> None:
        await page.screenshot(path=shots / f"{next(step):02}-{name}.png")

    async with serve(sandbox.app, sock), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        agent_context = await browser.new_context(viewport={"width": 1100, "height": 900})
        console = await agent_context.new_page()
        await console.goto(f"{base_url}/sandbox/")
        await expect(console.get_by_role("heading", name="Slack console (sandbox)")).to_be_visible()

        await say(console, "/xero customer add")
        modal = console.get_by_role("dialog", name="Add a customer")
        await modal.get_by_label("Customer name").fill("Acme Bikes")
        await modal.get_by_label("Cloud POS API key").fill(DEMO_KEY)
        await shoot(console, "register-modal")
        await modal.get_by_role("button", name="Add").click()
        added = console.get_by_role("dialog", name="Customer added")
        await expect(added.get_by_text("is registered with a ProPlus licence")).to_be_visible()
        await shoot(console, "registered")
        await added.get_by_role("button", name="Done").click()
        await expect(added).to_be_hidden()

        await say(console, "/xero stores Acme Bikes")
        await expect(console.get_by_role("heading", name="Acme Bikes")).to_be_visible()
        await console.get_by_text("Choose stores").click()
        stores = console.get_by_role("group", name="Choose stores")
        await stores.get_by_label("S001 Acme Bikes Leeds").check()
        await stores.get_by_label("S002 Acme Bikes York").check()
        await stores.get_by_role("button", name="Apply").click()
        await console.get_by_role("button", name="Send link for selected").click()
        link = console.get_by_role("link", name="/connect/")
        await expect(link).to_be_visible()
        await shoot(console, "link-issued")
        consent_url = await link.get_attribute("href")
        assert consent_url is not None
        assert consent_url.startswith(f"{base_url}/connect/")

        customer = await (await browser.new_context(viewport=PHONE)).new_page()
        await customer.goto(consent_url)
        await expect(customer.get_by_text("acme bikes store 1")).to_have_count(0)
        await expect(customer.get_by_text("Acme Bikes Leeds")).to_be_visible()
        await shoot(customer, "customer-landing")
        await customer.get_by_role("button", name="Connect to Xero").click()
        await customer.get_by_label("Acme Bikes Ltd — STANDARD").check()
        await customer.get_by_label("Acme Starter — STARTER").check()
        await shoot(customer, "xero-allow")
        await customer.get_by_role("button", name="Allow access").click()
        await expect(customer.get_by_role("heading")).to_have_text("Select an organisation")
        leeds = customer.get_by_label("Acme Bikes Leeds")
        await expect(leeds.locator("option", has_text="Acme Starter")).to_be_disabled()
        await shoot(customer, "customer-choose")
        standard = await leeds.locator("option", has_text="Acme Bikes Ltd").get_attribute("value")
        assert standard is not None
        await leeds.select_option(standard)
        await customer.get_by_label("Acme Bikes York").select_option(standard)
        await customer.get_by_role("button", name="Confirm Selection").click()
        await expect(customer.get_by_role("heading", level=1)).to_have_text(
            "Your stores are connected"
        )
        await shoot(customer, "customer-done")

        await expect(console.get_by_text("Consent completed.")).to_be_visible()
        await expect(console.get_by_text("State: completed")).to_be_visible()
        await expect(
            console.get_by_text("Link #1 was already completed by the customer")
        ).to_be_visible()
        await expect(console.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)
        await shoot(console, "thread-completed")

        # Step 4, as Ada: her summary has no Disconnect button, and typing it is refused.
        summary, refused = tour_commands(4)
        await say(console, summary)
        await expect(console.get_by_text("Xero summary: Acme Bikes")).to_be_visible()
        await expect(console.get_by_text("2 stores:")).to_be_visible()
        await expect(console.get_by_role("button", name="Disconnect from Xero")).to_have_count(0)
        await say(console, refused)
        await expect(
            console.get_by_text("Only helpdesk admins can disconnect organisations")
        ).to_be_visible()
        await shoot(console, "summary")

        # Step 5: the customer removes the app at Xero; the alert, the reconnect, resolved.
        async with console.expect_popup() as opened:
            await console.get_by_role("link", name="Xero emulator").click()
        xero_page = await opened.value
        await xero_page.get_by_role(
            "button", name="Disconnect Cloud POS from Acme Bikes Ltd"
        ).click()
        await expect(xero_page.locator("#connections")).not_to_contain_text("Acme Bikes Ltd")
        await xero_page.close()
        jobs = console.get_by_role("status", name="Scheduled jobs")
        await console.get_by_role("button", name="Run jobs now").click()
        await expect(jobs.get_by_text("connection-check: grants_checked 1")).to_be_visible()
        await console.get_by_role("button", name="xero-alerts", exact=True).click()
        alert = console.get_by_text("Acme Bikes · 2 stores")
        await expect(alert).to_be_visible()
        await expect(console.get_by_text("was disconnected on Xero's side").first).to_be_visible()
        await shoot(console, "alert")
        await console.get_by_role("button", name="Send reconnect link").click()
        relink = console.get_by_role("link", name="/connect/")
        await expect(relink).to_be_visible()
        reconnect_url = await relink.get_attribute("href")
        assert reconnect_url is not None
        assert reconnect_url != consent_url
        await customer.goto(reconnect_url)
        await customer.get_by_role("button", name="Connect to Xero").click()
        await customer.get_by_label("Acme Bikes Ltd — STANDARD").check()
        await customer.get_by_role("button", name="Allow access").click()
        await expect(customer.get_by_role("heading")).to_have_text("Select an organisation")
        again = (
            await customer.get_by_label("Acme Bikes Leeds")
            .locator("option", has_text="Acme Bikes Ltd")
            .get_attribute("value")
        )
        assert again is not None
        await customer.get_by_label("Acme Bikes Leeds").select_option(again)
        await customer.get_by_label("Acme Bikes York").select_option(again)
        await customer.get_by_role("button", name="Confirm Selection").click()
        await expect(customer.get_by_role("heading", level=1)).to_have_text(
            "Your stores are connected"
        )
        await console.get_by_role("button", name="Run jobs now").click()
        await expect(jobs.get_by_text("alerts: raised 0, updated 0, resolved 1")).to_be_visible()
        await expect(console.get_by_text("Resolved:")).to_be_visible()
        fixed = console.get_by_text("The customer reconnected through link #2, sent by")
        await expect(fixed).to_have_count(2)  # in the resolved alert, and in its thread
        await shoot(console, "alert-resolved")
        await console.get_by_role("button", name="Home", exact=True).click()
        await expect(console.get_by_text("What needs attention")).to_be_visible()
        await expect(console.get_by_text("All good: nothing needs attention.")).to_be_visible()
        await console.get_by_role("button", name="helpdesk", exact=True).click()
        [attention] = tour_commands(5)
        await say(console, attention)
        await expect(console.get_by_text("Needs attention", exact=True)).to_be_visible()
        await shoot(console, "home-and-attention")

        # Step 6, as Ada: S001's posting set-up, saved and marked ready; the summary counts it.
        setup, ready_summary = tour_commands(6)
        await set_up_posting(console, setup, say, shoot)
        await say(console, ready_summary)
        await expect(console.get_by_text("1 of 2 ready for sync").last).to_be_visible()
        await shoot(console, "summary-ready")

        # Step 7, as Sam: Ada's summary was hers alone; Sam asks for his own and disconnects.
        await console.get_by_label("Acting as").select_option("U0ADMIN")
        await expect(console.get_by_text("Xero summary: Acme Bikes")).to_have_count(0)
        sams_summary, *_, after = tour_commands(7)
        await say(console, sams_summary)
        await expect(console.get_by_text("Xero summary: Acme Bikes")).to_be_visible()
        await console.get_by_role("button", name="Disconnect from Xero").click()
        dialog = console.get_by_role("dialog", name="Disconnect from Xero?")
        await expect(dialog.get_by_text("Acme Bikes Ltd")).to_be_visible()
        await dialog.get_by_role("button", name="Disconnect").click()
        await expect(
            console.get_by_text("Disconnected Acme Bikes Ltd from Acme Bikes")
        ).to_be_visible()
        await say(console, after)
        await expect(console.get_by_text("0 organisations").last).to_be_visible()
        await shoot(console, "disconnected")

        # The README's "Xero emulator page", from the console's own link: that connection gone.
        async with console.expect_popup() as opened:
            await console.get_by_role("link", name="Xero emulator").click()
        emulator = await opened.value
        connections = emulator.locator("#connections")
        await expect(connections).to_be_visible()
        await expect(connections).not_to_contain_text("Acme Bikes Ltd")
        await shoot(emulator, "xero-emulator")
        await browser.close()

    engine = create_engine(database)
    async with transaction(session_factory(engine)) as session:
        links = (await session.scalars(select(StoreLink))).all()
        leeds = await session.scalar(select(Store).where(Store.code == "S001"))
        assert leeds is not None
        kept = await session.get(StoreSetup, leeds.id)
    await engine.dispose()
    assert [(link.store_id, link.active) for link in links] == [(1, False), (2, False)]
    assert leeds.ready_at is None  # disconnected, so no longer ready for sync
    assert kept is not None  # the set-up stays, for a reconnection to the same organisation
    left_at_xero = [c.tenant_name for c in sandbox.xero.connections_of("xero-olive")]
    # Acme Starter (allowed, never used by a store) is the domain's to keep or remove.
    assert "Acme Bikes Ltd" not in left_at_xero
    assert sorted(path.name for path in shots.iterdir())[-1] == "18-xero-emulator.png"
