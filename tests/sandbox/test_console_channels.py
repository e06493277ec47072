"""The Slack console's channels: several, each shown as the helpdesk channel is, over a real
Bolt app standing in for the bot, through the console's HTTP API and in Chromium."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from sandbox.console import console_routes
from sandbox.fake_slack import SignedRequest, SlackDriver
from tests.browser import phone_page
from tests.sandbox.console_stand_in import (
    AGENT,
    ALERTS,
    HELPDESK,
    SECRET,
    USERS,
    Console,
    texts,
)


async def test_each_channel_shows_its_own_messages_and_the_sidebar_lists_both(
    console: Console,
) -> None:
    console.workspace.post(HELPDESK, text="a helpdesk question")
    ts = await console.bot.alert("Acme Bikes: stores need reconnecting")

    helpdesk = await console.state()  # the first channel is the default
    assert helpdesk["channel"] == {"id": HELPDESK, "name": "helpdesk"}
    assert texts(helpdesk["messages"]) == ["a helpdesk question"]

    alerts = await console.state(channel=ALERTS)
    assert alerts["channel"] == {"id": ALERTS, "name": "xero-alerts"}
    (alert,) = alerts["messages"]
    assert (alert["ts"], alert["channel"], alert["edited"], alert["bot"]) == (
        ts,
        ALERTS,
        True,
        True,
    )
    assert alert["blocks"][0]["text"]["text"] == "*Acme Bikes: stores need reconnecting* (2 stores)"
    assert texts(alert["replies"]) == ["Store York broke"]
    assert alerts["direct"] == helpdesk["direct"] == []

    (reply,) = console.workspace.replies(ALERTS, ts)
    assert [(c["id"], c["name"], c["latest"]) for c in alerts["sidebar"]] == [
        (HELPDESK, "helpdesk", helpdesk["messages"][0]["ts"]),
        (ALERTS, "xero-alerts", reply.ts),  # a thread reply is news in its channel too
    ]
    assert helpdesk["sidebar"] == alerts["sidebar"]


async def test_a_button_in_the_alerts_channel_is_clicked_in_that_channel(
    console: Console,
) -> None:
    ts = await console.bot.alert("Acme Bikes: a store needs reconnecting")
    clicked = await console.post("click", channel=ALERTS, ts=ts, action_id="retry")
    assert clicked.status_code == 200, clicked.text
    await console.workspace.wait_for("chat.postMessage", count=3)
    (alert,) = (await console.state(channel=ALERTS))["messages"]
    assert texts(alert["replies"]) == ["Store York broke", f"Checked again by <@{AGENT}>"]
    assert (await console.state())["messages"] == []
    assert console.bot.received == [f"retry 1 in {ALERTS}"]


async def test_a_command_runs_in_the_channel_it_is_typed_in(console: Console) -> None:
    for channel in (ALERTS, None):
        typed = await console.post("command", text="/xero attention", channel=channel)
        assert typed.status_code == 200, typed.text
    await console.workspace.wait_for("response_url", count=2)
    assert console.bot.received == [
        f"command attention in {ALERTS}",
        f"command attention in {HELPDESK}",  # no channel: the first, as before
    ]
    assert texts((await console.state(channel=ALERTS))["messages"]) == ["Answer to attention"]
    assert texts((await console.state())["messages"]) == ["Answer to attention"]


async def test_channels_the_console_does_not_show_are_refused(console: Console) -> None:
    console.workspace.add_channel("C0OTHER", "other")
    for channel in ("C0OTHER", "C0NOWHERE", f"D{AGENT}"):
        state = await console.http.get(
            "/sandbox/api/state", params={"user": AGENT, "channel": channel}
        )
        assert state.status_code == 400
        assert "unknown channel" in state.json()["error"]
        command = await console.post("command", text="help", channel=channel)
        assert command.status_code == 400
        assert "unknown channel" in command.json()["error"]
    assert console.bot.received == []

    async def unsent(request: SignedRequest) -> httpx.Response:
        raise AssertionError("nothing is sent")

    driver = SlackDriver(console.workspace, SECRET, unsent)
    with pytest.raises(ValueError, match="C0NOWHERE"):
        console_routes(
            workspace=console.workspace, driver=driver, users=USERS, channels=["C0NOWHERE"]
        )


async def test_the_page_lists_the_channels_and_opens_the_one_asked_for(console: Console) -> None:
    console.workspace.add_channel(ALERTS, "alerts<script>")
    page = (await console.http.get("/sandbox/")).text
    assert 'data-channel="C0HELPDESK"' in page
    assert '<h2 id="channel-title">#helpdesk</h2>' in page
    assert "alerts&lt;script&gt;" in page
    assert "alerts<script>" not in page
    current = [line for line in page.splitlines() if 'aria-current="page"' in line]
    assert len(current) == 1
    assert 'data-channel="C0HELPDESK"' in current[0]

    opened = (await console.http.get("/sandbox/", params={"channel": ALERTS})).text
    assert '<h2 id="channel-title">#alerts&lt;script&gt;</h2>' in opened
    (current,) = [line for line in opened.splitlines() if 'aria-current="page"' in line]
    assert f'data-channel="{ALERTS}"' in current
    unknown = (await console.http.get("/sandbox/", params={"channel": "C0NOWHERE"})).text
    assert '<h2 id="channel-title">#helpdesk</h2>' in unknown


@pytest.mark.browser
async def test_switching_channels_in_a_real_browser(console: Console, tmp_path: Path) -> None:
    console.workspace.post(HELPDESK, text="a helpdesk question")
    async with phone_page(console.app) as (url, page, problems):
        await page.goto(f"{url}/sandbox/")
        await expect(page.get_by_text("a helpdesk question")).to_be_visible()
        helpdesk = page.get_by_role("button", name="helpdesk", exact=True)
        alerts = page.get_by_role("button", name="xero-alerts", exact=True)
        await expect(helpdesk).to_have_attribute("aria-current", "page")

        await console.bot.alert("Acme Bikes: stores need reconnecting")
        await expect(alerts).to_have_class("sidebar-item unread")  # posted elsewhere: news
        await expect(alerts).to_have_accessible_description("new messages")
        await page.screenshot(path=tmp_path / "01-news-in-alerts.png")
        await expect(page.get_by_text("Acme Bikes: stores need")).to_have_count(0)

        await alerts.click()
        await expect(page.get_by_role("heading", name="#xero-alerts")).to_be_visible()
        await expect(page.get_by_text("Acme Bikes: stores need reconnecting")).to_be_visible()
        await expect(page.get_by_text("(edited)")).to_be_visible()
        await expect(page.get_by_text("Store York broke")).to_be_visible()
        await expect(page.get_by_text("a helpdesk question")).to_have_count(0)
        await expect(alerts).to_have_class("sidebar-item")
        await expect(alerts).to_have_attribute("aria-current", "page")
        assert page.url.endswith(f"?channel={ALERTS}")
        await page.reload()  # the open channel is in the address
        await expect(page.get_by_role("heading", name="#xero-alerts")).to_be_visible()

        await page.get_by_role("button", name="Check again").click()
        await expect(page.get_by_text("Checked again by @Ada Agent")).to_be_visible()
        await page.set_viewport_size({"width": 1100, "height": 700})
        await page.screenshot(path=tmp_path / "02-alerts-wide.png")

        await page.get_by_label("Message", exact=True).fill("/xero attention")
        await page.get_by_label("Message", exact=True).press("Enter")
        await expect(page.get_by_text("Answer to attention")).to_be_visible()

        await helpdesk.click()
        await expect(page.get_by_text("a helpdesk question")).to_be_visible()
        await expect(page.get_by_text("Answer to attention")).to_have_count(0)
        await expect(page.get_by_role("heading", name="#helpdesk")).to_be_visible()
    assert console.bot.received == [
        f"retry 1 in {ALERTS}",
        f"command attention in {ALERTS}",
    ]
    assert problems == []
