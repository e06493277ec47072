"""The Slack console's Home entry: opening it tells the app (`app_home_opened`) and shows the
Home it publishes for the person acting, with buttons that act from the Home view."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser import phone_page
from tests.sandbox.console_stand_in import (
    AGENT,
    OUTSIDER,
    OUTSIDER_LINE,
    Console,
)


async def test_opening_the_home_shows_what_the_app_published_for_each_person(
    console: Console,
) -> None:
    assert (await console.state())["home"] is None
    opened = await console.post("home")
    assert opened.status_code == 200, opened.text
    await console.workspace.wait_for("views.publish")
    home = (await console.state())["home"]
    kinds = [block["type"] for block in home["blocks"]]
    assert kinds == ["header", "context", "section", "actions"]
    assert home["blocks"][0]["text"]["text"] == "What needs attention"
    assert home["blocks"][3]["elements"][0]["action_id"] == "refresh_home"
    assert home["view_id"] == console.workspace.home_of(AGENT).id  # type: ignore[union-attr]
    assert (await console.state(OUTSIDER))["home"] is None  # a Home is one person's

    theirs = await console.http.post("/sandbox/api/home", json={"user": OUTSIDER})
    assert theirs.status_code == 200, theirs.text
    await console.workspace.wait_for("views.publish", count=2)
    (line,) = (await console.state(OUTSIDER))["home"]["blocks"]
    assert line["text"]["text"] == OUTSIDER_LINE
    assert (await console.state())["home"] == home
    assert console.bot.received == [f"home opened by {AGENT}", f"home opened by {OUTSIDER}"]


async def test_a_button_in_the_home_acts_from_the_home_view(console: Console) -> None:
    await console.post("home")
    await console.workspace.wait_for("views.publish")
    home = (await console.state())["home"]
    clicked = await console.post(
        "click", view_id=home["view_id"], action_id="refresh_home", value="again"
    )
    assert clicked.status_code == 200, clicked.text
    await console.workspace.wait_for("views.publish", count=2)
    again = (await console.state())["home"]
    assert again["view_id"] == home["view_id"]
    assert again["hash"] != home["hash"]
    assert again["blocks"][1]["elements"][0]["text"] == "Opened 2 times"
    assert console.bot.received == [f"home opened by {AGENT}", "refresh in home True"]
    assert [call.error for call in console.workspace.calls_to("views.publish")] == [None, None]


async def test_someone_elses_home_and_a_home_as_a_modal_are_refused(console: Console) -> None:
    await console.post("home")
    await console.workspace.wait_for("views.publish")
    view_id = (await console.state())["home"]["view_id"]
    not_theirs = await console.http.post(
        "/sandbox/api/click",
        json={"user": OUTSIDER, "view_id": view_id, "action_id": "refresh_home"},
    )
    assert not_theirs.status_code == 400
    assert f"no view {view_id}" in not_theirs.json()["error"]
    for path in ("submit", "close"):
        refused = await console.post(path, view_id=view_id, values={})
        assert refused.status_code == 400
        assert "is a Home, not a modal" in refused.json()["error"]
    unknown = await console.http.post("/sandbox/api/home", json={"user": "U0NOBODY"})
    assert unknown.status_code == 400
    assert console.bot.received == [f"home opened by {AGENT}"]


async def test_the_page_opens_on_the_home_when_asked(console: Console) -> None:
    page = (await console.http.get("/sandbox/", params={"view": "home"})).text
    assert 'data-view="home" aria-current="page">Home</button>' in page
    assert '<h2 id="channel-title">xero-bot · Home</h2>' in page
    assert [line for line in page.splitlines() if 'aria-current="page"' in line] == [
        line for line in page.splitlines() if 'data-view="home"' in line and "<button" in line
    ]
    channel = (await console.http.get("/sandbox/")).text
    assert 'data-view="home">Home</button>' in channel


@pytest.mark.browser
async def test_the_home_tab_in_a_real_browser(console: Console, tmp_path: Path) -> None:
    console.workspace.post("C0HELPDESK", text="a helpdesk question")
    async with phone_page(console.app) as (url, page, problems):
        await page.goto(f"{url}/sandbox/")
        await expect(page.get_by_text("a helpdesk question")).to_be_visible()

        home = page.get_by_role("button", name="Home", exact=True)
        await home.click()
        await expect(home).to_have_attribute("aria-current", "page")
        await expect(page.get_by_role("heading", name="xero-bot · Home")).to_be_visible()
        await expect(page.get_by_role("heading", name="What needs attention")).to_be_visible()
        await expect(page.get_by_text("Opened 1 times")).to_be_visible()
        await expect(page.locator("strong", has_text="2 stores")).to_be_visible()
        await expect(page.get_by_text("<b>bold</b>")).to_be_visible()  # text, not markup
        assert await page.locator("#home-view b").count() == 0
        await expect(page.get_by_text("a helpdesk question")).to_have_count(0)
        await expect(page.get_by_label("Message", exact=True)).to_be_hidden()
        await page.screenshot(path=tmp_path / "01-home.png")

        await page.get_by_role("button", name="Refresh").click()
        await expect(page.get_by_text("Opened 2 times")).to_be_visible()
        await home.click()  # opening it again tells the app again, as Slack does
        await expect(page.get_by_text("Opened 3 times")).to_be_visible()

        await page.get_by_label("Acting as").select_option(OUTSIDER)
        await expect(page.get_by_text(OUTSIDER_LINE)).to_be_visible()
        await expect(page.get_by_text("What needs attention")).to_have_count(0)
        await page.reload()  # the Home is in the address, and opens again
        await expect(page.get_by_text(OUTSIDER_LINE)).to_be_visible()

        await page.get_by_role("button", name="helpdesk", exact=True).click()
        await expect(page.get_by_text("a helpdesk question")).to_be_visible()
        await expect(page.get_by_text(OUTSIDER_LINE)).to_have_count(0)
        await expect(page.get_by_label("Message", exact=True)).to_be_visible()
    assert console.bot.received == [
        f"home opened by {AGENT}",
        "refresh in home True",
        f"home opened by {AGENT}",
        f"home opened by {OUTSIDER}",
        f"home opened by {OUTSIDER}",
    ]
    assert problems == []
