"""The Slack console's "Posting set-up" modal: external selects that search as the person
types (through /sandbox/api/suggest and the app's options), radio buttons, date pickers,
option groups, optional inputs and a Copy-from select, over the API and in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect
from starlette.routing import Mount

from sandbox.console import ConsoleUser, console_routes
from tests.browser import CHROMIUM_ARGS, PHONE, free_socket, require_chromium, serve
from tests.sandbox.setup_stand_in import (
    AGENT,
    AUTHORISED,
    HOST,
    STORES,
    Served,
    account,
    option,
    setup_over_fake_slack,
)

ADVERTISING = "400 · Advertising <b>&</b>"


@dataclass
class Console:
    served: Served
    http: httpx.AsyncClient

    async def post(self, path: str, **body: Any) -> httpx.Response:
        return await self.http.post(f"/sandbox/api/{path}", json={"user": AGENT, **body})

    async def modal(self) -> dict[str, Any]:
        response = await self.http.get("/sandbox/api/state", params={"user": AGENT})
        assert response.status_code == 200, response.text
        modal = response.json()["modal"]
        assert modal is not None
        return dict(modal)


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    async with setup_over_fake_slack() as served:
        routes = console_routes(
            workspace=served.workspace,
            driver=served.driver,
            users=[ConsoleUser(AGENT, "Ada Agent", "helpdesk agent")],
        )
        served.app.router.routes.append(Mount("/sandbox", routes=routes))
        transport = httpx.ASGITransport(app=served.app)
        async with httpx.AsyncClient(transport=transport, base_url=HOST) as http:
            yield Console(served, http)


async def open_setup(console: Console) -> dict[str, Any]:
    assert (await console.post("command", text="/xero setup")).status_code == 200
    await console.served.workspace.wait_for("views.open")
    return await console.modal()


async def test_suggest_answers_the_apps_options_for_the_typed_text(console: Console) -> None:
    modal = await open_setup(console)
    where = {"view_id": modal["view_id"], "block_id": "sales-200", "action_id": "account"}
    found = await console.post("suggest", **where, value="adv")
    assert (found.status_code, found.json()) == (200, {"options": [account("400")]})
    payload = console.served.bot.suggestions[-1]
    assert (payload["value"], payload["view"]["id"]) == ("adv", modal["view_id"])

    grouped = await console.post(
        "suggest", view_id=modal["view_id"], block_id="contact", action_id="contact", value="Z"
    )
    assert [o["value"] for o in grouped.json()["options"]] == ["c1", "c2", "s1"]

    short = await console.post("suggest", **where, value="ad")
    assert short.status_code == 400
    assert "from 3 characters typed" in short.json()["error"]
    not_external = await console.post("suggest", **{**where, "block_id": "tax"}, value="gst")
    assert not_external.status_code == 400
    unknown = await console.post("suggest", **{**where, "view_id": "V404"}, value="adv")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "no view V404")
    assert len(console.served.bot.suggestions) == 2


async def test_a_failing_options_answer_is_a_502_saying_why(console: Console) -> None:
    modal = await open_setup(console)

    async def broken(request: Any) -> httpx.Response:
        return httpx.Response(500, text="boom")

    console.served.driver.send = broken
    failed = await console.post(
        "suggest", view_id=modal["view_id"], block_id="sales-200", action_id="account", value="sal"
    )
    assert failed.status_code == 502
    assert "HTTP 500: boom" in failed.json()["error"]


async def test_the_modal_is_set_copied_and_submitted_through_the_api(console: Console) -> None:
    modal = await open_setup(console)
    view_id = modal["view_id"]
    kinds = [(b["block_id"], b.get("element", {}).get("type")) for b in modal["blocks"]]
    assert kinds[1:] == [
        ("sales-200", "external_select"),
        ("contact", "external_select"),
        ("status-DRAFT", "radio_buttons"),
        ("start-2024-07-01", "datepicker"),
        ("end", "datepicker"),
        ("stores", "multi_external_select"),
        ("tracking", "static_select"),
        ("tax", "static_select"),
    ]
    copied = await console.post(
        "select",
        view_id=view_id,
        block_id="copy",
        action_id="copy_from",
        values=["york"],
        inputs={"end": {"end": "2025-01-31"}},
    )
    assert copied.status_code == 200, copied.text
    await console.served.workspace.wait_for("views.update")
    (action,) = console.served.bot.actions
    assert action["container"] == {"type": "view", "view_id": view_id}
    assert action["view"]["state"]["values"]["end"]["end"]["selected_date"] == "2025-01-31"
    assert [b["block_id"] for b in (await console.modal())["blocks"]][1] == "sales-260"

    where = {"view_id": view_id, "block_id": "sales-260", "action_id": "account"}
    await console.post("suggest", **where, value="adv")
    refused = await console.post(
        "submit",
        view_id=view_id,
        values={"sales-260": {"account": "400"}, "end": {"end": "1999-01-01"}},
    )
    assert refused.json()["errors"] == {"end": "The end is before the start"}
    assert (await console.modal())["errors"] == {"end": "The end is before the start"}
    saved = await console.post(
        "submit",
        view_id=view_id,
        values={
            "sales-260": {"account": "400"},
            "end": {"end": None},
            "tracking": {"tracking": None},
        },
    )
    assert (saved.status_code, saved.json()["closed"]) == (200, True)
    values = console.served.bot.submitted[-1]["view"]["state"]["values"]
    assert values["sales-260"]["account"]["selected_option"] == option(ADVERTISING, "400")
    assert values["status-AUTHORISED"]["status"]["selected_option"] == AUTHORISED
    assert values["end"]["end"] == {"type": "datepicker", "selected_date": None}
    assert values["tracking"]["tracking"] == {"type": "static_select", "selected_option": None}


@pytest.mark.browser
async def test_searching_choosing_and_submitting_in_a_real_browser(
    console: Console, tmp_path: Path
) -> None:
    chromium = require_chromium()
    problems: list[str] = []
    bot = console.served.bot

    async def shoot(page: Page, name: str) -> None:
        await page.screenshot(path=tmp_path / f"{name}.png")

    async with serve(console.served.app, free_socket()) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
            page = await context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            await page.goto(f"{url}/sandbox/")
            await expect(page.get_by_text("Live")).to_be_visible()
            await page.get_by_label("Message", exact=True).fill("/xero setup")
            await page.get_by_label("Message", exact=True).press("Enter")
            modal = page.get_by_role("dialog", name="Posting set-up")
            await expect(modal).to_be_visible()

            sales = modal.get_by_role("combobox", name="Sales account")
            await expect(sales).to_have_value("200 · Sales")
            await expect(modal.get_by_role("radio", name="Draft")).to_be_checked()
            await expect(modal.get_by_label("Start date")).to_have_value("2024-07-01")
            await expect(modal.get_by_label("End date")).to_have_value("")
            await expect(modal.get_by_label("Tracking")).to_have_value("")
            await expect(modal.get_by_label("Tax rate")).to_have_value("NONE")
            await shoot(page, "01-setup")

            await modal.get_by_label("End date").fill("2025-01-31")
            await modal.get_by_label("Copy from another store").select_option("leeds")
            await expect(sales).to_have_value("260 · Other Revenue")
            await expect(modal.get_by_role("radio", name="Authorised")).to_be_checked()
            await expect(modal.get_by_label("Start date")).to_have_value("2024-08-01")
            await expect(modal.get_by_label("End date")).to_have_value("2025-01-31")
            (copied,) = bot.actions
            assert copied["view"]["state"]["values"]["end"]["end"]["selected_date"] == "2025-01-31"

            await sales.fill("ad")
            await expect(modal.get_by_text("Type 3 or more characters to search")).to_be_visible()
            await sales.press_sequentially("v")
            accounts = modal.get_by_role("listbox", name="Options for Sales account")
            found = accounts.get_by_role("option", name=ADVERTISING)
            await expect(found).to_be_visible()
            await expect(accounts.get_by_role("option")).to_have_count(1)
            assert [p["value"] for p in bot.suggestions] == ["adv"]  # none for "ad"
            assert await modal.locator("b").count() == 0  # the app's text is text
            await shoot(page, "02-search")
            await found.click()
            await expect(sales).to_have_value(ADVERTISING)
            await expect(accounts).to_be_hidden()

            contact = modal.get_by_role("combobox", name="Contact")
            await contact.fill("Bo")
            contacts = modal.get_by_role("listbox", name="Options for Contact")
            await expect(contacts.get_by_role("option")).to_have_count(3)
            await contact.press("ArrowDown")
            await contact.press("ArrowDown")
            await contact.press("Enter")
            await expect(contact).to_have_value("Bo & Co")
            stores = modal.get_by_role("combobox", name="Also for stores")
            chosen = modal.get_by_role("list", name="Chosen for Also for stores")
            await expect(chosen.get_by_role("listitem")).to_have_count(1)
            await expect(chosen.get_by_role("listitem")).to_contain_text("Store York")
            await stores.focus()  # min_query_length 0: Slack asks as the menu opens
            listed = modal.get_by_role("listbox", name="Options for Also for stores")
            await expect(listed.get_by_role("option")).to_have_count(3)
            await listed.get_by_role("option", name="Store Hull").click()
            await chosen.get_by_role("button", name="Remove Store York").click()
            await expect(chosen.get_by_role("listitem")).to_have_count(1)
            await expect(chosen.get_by_role("listitem")).to_contain_text("Store Hull")
            await modal.get_by_label("Tracking").select_option("shop")
            await modal.get_by_label("End date").fill("1999-01-01")

            await modal.get_by_role("button", name="Save").click()
            await expect(modal.get_by_text("The end is before the start")).to_be_visible()
            await expect(modal.get_by_label("End date")).to_have_attribute("aria-invalid", "true")
            await expect(sales).to_have_value(ADVERTISING)
            await shoot(page, "03-error")
            await modal.get_by_label("End date").fill("2025-06-30")
            await modal.get_by_role("button", name="Save").click()
            await expect(modal).to_be_hidden()
        finally:
            await browser.close()
    assert len(bot.submitted) == 2
    assert bot.submitted[-1]["view"]["state"]["values"] == {
        "copy": {
            "copy_from": {
                "type": "static_select",
                "selected_option": option("Store Leeds", "leeds"),
            }
        },
        "sales-260": {
            "account": {"type": "external_select", "selected_option": option(ADVERTISING, "400")}
        },
        "contact": {
            "contact": {"type": "external_select", "selected_option": option("Bo & Co", "c2")}
        },
        "status-AUTHORISED": {"status": {"type": "radio_buttons", "selected_option": AUTHORISED}},
        "start-2024-08-01": {"start": {"type": "datepicker", "selected_date": "2024-08-01"}},
        "end": {"end": {"type": "datepicker", "selected_date": "2025-06-30"}},
        "stores": {"stores": {"type": "multi_external_select", "selected_options": [STORES[2]]}},
        "tracking": {
            "tracking": {"type": "static_select", "selected_option": option("Shop", "shop")}
        },
        "tax": {"tax": {"type": "static_select", "selected_option": option("No GST", "NONE")}},
    }
    assert problems == []
