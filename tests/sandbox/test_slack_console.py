"""The Slack console: its JSON API over a real Bolt app, and the page in headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route

from sandbox.console import CSP, ConsoleUser, console_routes
from sandbox.fake_slack import SignedRequest, SlackDriver, Workspace, create_app
from tests.browser import CHROMIUM_ARGS, PHONE, free_socket, require_chromium, serve

SECRET = "console-test-secret"
AGENT, ADMIN = "U0AGENT", "U0ADMIN"
CHANNEL = "C0HELPDESK"
USERS = [
    ConsoleUser(AGENT, "Ada Agent", "helpdesk agent"),
    ConsoleUser(ADMIN, "Sam Admin", "helpdesk admin"),
]
HOST = "http://console.test"


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def options(*names: str) -> list[dict[str, Any]]:
    return [{"text": plain(name), "value": name.lower()} for name in names]


MENU = [
    {"type": "header", "text": plain("Acme Bikes")},
    {
        "type": "section",
        "block_id": "link",
        "text": {
            "type": "mrkdwn",
            "text": "*Consent link* for _Acme_ `S1` by <@U0AGENT>, see "
            "<https://example.test/docs?a=1&amp;b=2|the docs>, until "
            "<!date^1700000000^{date_short}|14 Nov 2023>. 1 &lt; 2 &amp; "
            "&lt;script&gt;alert(1)&lt;/script&gt; :white_check_mark: Or https://example.test/b_c_d.",
        },
        "accessory": {
            "type": "button",
            "action_id": "revoke",
            "value": "r1",
            "style": "danger",
            "text": plain("Revoke link"),
            "confirm": {
                "title": plain("Revoke this link?"),
                "text": {"type": "mrkdwn", "text": "The customer will *not* be able to use it."},
                "confirm": plain("Revoke"),
                "deny": plain("Keep it"),
            },
        },
    },
    {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Licence*\nProPlus"}]},
    {
        "type": "section",
        "block_id": "stores",
        "text": {"type": "mrkdwn", "text": "Send one link for several stores:"},
        "accessory": {
            "type": "multi_static_select",
            "action_id": "stores",
            "placeholder": plain("Choose stores"),
            "options": options("North", "South", "East"),
        },
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Customer #7 · 3 stores"}]},
    {"type": "divider"},
    {
        "type": "actions",
        "block_id": "menu",
        "elements": [
            {"type": "button", "action_id": "open", "text": plain("Add customer")},
            {
                "type": "static_select",
                "action_id": "plan",
                "placeholder": plain("Plan"),
                "options": options("Starter", "Standard"),
            },
        ],
    },
]
ADD_CUSTOMER = {
    "type": "modal",
    "callback_id": "add_customer",
    "notify_on_close": True,
    "title": plain("Add a customer"),
    "submit": plain("Add"),
    "close": plain("Cancel"),
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Who is the *customer*?"}},
        {
            "type": "input",
            "block_id": "name",
            "label": plain("Customer name"),
            "hint": plain("As the helpdesk knows them"),
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
    ],
}


@dataclass
class StandIn:
    """A Bolt app with a /xero command, standing in for the bot; it notes what it got."""

    client: AsyncWebClient
    received: list[str] = field(default_factory=list)

    def app(self) -> AsyncApp:
        app = AsyncApp(client=self.client, signing_secret=SECRET)

        @app.command("/xero")
        async def command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
            self.received.append(f"command {command['text']}")
            await ack(f"Working on {command['text']}")
            await respond(text="Acme Bikes", blocks=MENU, response_type="in_channel")

        @app.action("revoke")
        async def revoke(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            self.received.append(f"revoke {body['actions'][0]['value']}")
            await client.chat_postMessage(
                channel=body["channel"]["id"],
                thread_ts=body["container"]["message_ts"],
                text=f"Link revoked by <@{body['user']['id']}>",
            )

        @app.action("plan")
        async def plan(ack: Any, respond: Any, body: dict[str, Any]) -> None:
            await ack()
            chosen = body["actions"][0]["selected_option"]["value"]
            self.received.append(f"plan {chosen}")
            await respond(text=f"Plan *{chosen}* chosen")

        @app.action("stores")
        async def stores(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            chosen = [o["value"] for o in body["actions"][0]["selected_options"]]
            self.received.append(f"stores {','.join(chosen)}")
            note = {"type": "context", "elements": [plain(f"Stores chosen: {', '.join(chosen)}")]}
            await client.chat_update(
                channel=body["channel"]["id"],
                ts=body["container"]["message_ts"],
                text="Acme Bikes",
                blocks=[*MENU, note],
            )

        @app.action("open")
        async def open_modal(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            self.received.append("open")
            await client.views_open(trigger_id=body["trigger_id"], view=ADD_CUSTOMER)

        @app.view("add_customer")
        async def add(ack: Any, view: dict[str, Any], client: AsyncWebClient) -> None:
            name = view["state"]["values"]["name"]["value"]["value"]
            self.received.append(f"submit {name}")
            if not name:
                await ack(response_action="errors", errors={"name": "Give the customer a name"})
                return
            await ack()
            await client.chat_postMessage(channel=CHANNEL, text=f"Added *{name}*")

        @app.view_closed("add_customer")
        async def closed(ack: Any) -> None:
            await ack()
            self.received.append("closed")

        return app


@dataclass
class Sandbox:
    workspace: Workspace
    bot: StandIn
    app: Starlette
    http: httpx.AsyncClient

    async def state(self, user: str = AGENT, **params: Any) -> dict[str, Any]:
        response = await self.http.get("/sandbox/api/state", params={"user": user, **params})
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, **body: Any) -> httpx.Response:
        return await self.http.post(f"/sandbox/api/{path}", json={"user": AGENT, **body})


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    workspace = Workspace()
    async with serve(create_app(workspace), free_socket()) as slack_url:
        workspace.base_url = slack_url
        bot = StandIn(AsyncWebClient(token=workspace.bot_token, base_url=f"{slack_url}/api/"))
        handler = AsyncSlackRequestHandler(bot.app())

        async def events(request: Request) -> Any:
            return await handler.handle(request)

        routes: list[Any] = [Route("/slack/events", events, methods=["POST"])]
        app = Starlette(routes=routes)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as http:

            async def send(request: SignedRequest) -> httpx.Response:
                return await http.post(
                    "/slack/events", content=request.body, headers=request.headers
                )

            driver = SlackDriver(workspace, SECRET, send)
            console = console_routes(
                workspace=workspace,
                driver=driver,
                users=USERS,
                links=[("Xero emulator", "http://xero.test/")],
            )
            app.router.routes.append(Mount("/sandbox", routes=console))
            yield Sandbox(workspace, bot, app, http)


async def run_menu(sandbox: Sandbox) -> dict[str, Any]:
    """/xero menu as the agent; the channel's menu message once the bot posted it."""
    response = await sandbox.post("command", text="/xero menu")
    assert response.status_code == 200
    assert response.json() == {"status": 200, "text": "Working on menu"}
    await sandbox.workspace.wait_for("response_url")
    (menu,) = [m for m in (await sandbox.state())["messages"] if not m["ephemeral"]]
    return menu


async def test_the_page_and_its_files_carry_the_csp(sandbox: Sandbox) -> None:
    page = await sandbox.http.get("/sandbox/", params={"user": ADMIN})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Slack console (sandbox)" in html
    assert 'src="/sandbox/static/console.js"' in html
    assert 'href="/sandbox/static/console.css"' in html
    assert '<option value="U0ADMIN" selected>Sam Admin — helpdesk admin</option>' in html
    assert 'href="http://xero.test/" target="_blank" rel="noopener noreferrer"' in html
    for inline in ("<script>", " style=", " onclick"):
        assert inline not in html
    for name, kind in [("console.js", "text/javascript"), ("console.css", "text/css")]:
        served = await sandbox.http.get(f"/sandbox/static/{name}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(kind)
        assert served.headers["content-security-policy"] == CSP
    for name in ("../routes.py", "nope.js", "%2e%2e%2froutes.py"):
        assert (await sandbox.http.get(f"/sandbox/static/{name}")).status_code == 404
    for user in (AGENT, ADMIN):
        assert sandbox.workspace.users[user] in ("Ada Agent", "Sam Admin")


async def test_a_command_shows_the_ack_to_its_user_and_the_answer_to_all(
    sandbox: Sandbox,
) -> None:
    empty = await sandbox.state()
    assert (empty["messages"], empty["modal"], empty["channel"]) == (
        [],
        None,
        {"id": CHANNEL, "name": "helpdesk"},
    )
    menu = await run_menu(sandbox)
    assert sandbox.bot.received == ["command menu"]
    assert (menu["author"], menu["bot"], menu["edited"]) == ("xero-bot", True, False)
    assert [b["type"] for b in menu["blocks"]] == [b["type"] for b in MENU]
    assert menu["blocks"][0]["block_id"] == "blk0"  # filled in as Slack would
    assert menu["blocks"][6]["elements"][0]["action_id"] == "open"

    mine = await sandbox.state()
    # The ack is applied once the bot's HTTP answer is back, so it may come second.
    assert sorted((m["text"], m["ephemeral"]) for m in mine["messages"]) == [
        ("Acme Bikes", False),
        ("Working on menu", True),
    ]
    assert mine["users"][AGENT] == "Ada Agent"
    theirs = await sandbox.state(ADMIN)
    assert [m["text"] for m in theirs["messages"]] == ["Acme Bikes"]


async def test_state_long_polls_until_something_changes(sandbox: Sandbox) -> None:
    now = (await sandbox.state())["revision"]
    quiet = await sandbox.state(since=now, wait=0.05)
    assert (quiet["revision"], quiet["messages"]) == (now, [])
    waiting = asyncio.create_task(sandbox.state(since=now))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    sandbox.workspace.post(CHANNEL, text="hello")
    changed = await asyncio.wait_for(waiting, 5)
    assert changed["revision"] > now
    assert [m["text"] for m in changed["messages"]] == ["hello"]


async def test_click_confirmed_button_and_choose_in_selects(sandbox: Sandbox) -> None:
    menu = await run_menu(sandbox)
    where = {"channel": CHANNEL, "ts": menu["ts"]}

    clicked = await sandbox.post("click", **where, action_id="revoke", value="r1")
    assert clicked.status_code == 200
    await sandbox.workspace.wait_for("chat.postMessage")
    (shown,) = [m for m in (await sandbox.state())["messages"] if m["ts"] == menu["ts"]]
    assert [r["text"] for r in shown["replies"]] == [f"Link revoked by <@{AGENT}>"]

    chosen = await sandbox.post("select", **where, action_id="plan", values=["standard"])
    assert chosen.status_code == 200
    await sandbox.workspace.wait_for("response_url", count=2)
    state = await sandbox.state()
    assert state["messages"][-1]["text"] == "Plan *standard* chosen"
    assert state["messages"][-1]["ephemeral"]
    (shown,) = [m for m in state["messages"] if m["ts"] == menu["ts"]]
    assert shown["state"]["menu"]["plan"]["selected_option"]["value"] == "standard"
    (theirs,) = [m for m in (await sandbox.state(ADMIN))["messages"] if m["ts"] == menu["ts"]]
    assert theirs["state"] == {}  # a choice in a select is the chooser's own, as in Slack

    several = await sandbox.post("select", **where, action_id="stores", values=["north", "east"])
    assert several.status_code == 200
    await sandbox.workspace.wait_for("chat.update")
    (shown,) = [m for m in (await sandbox.state())["messages"] if m["ts"] == menu["ts"]]
    assert shown["edited"]
    assert shown["blocks"][-1]["elements"][0]["text"] == "Stores chosen: north, east"
    assert sandbox.bot.received == [
        "command menu",
        "revoke r1",
        "plan standard",
        "stores north,east",
    ]


async def test_a_modal_opens_shows_errors_submits_and_closes(sandbox: Sandbox) -> None:
    menu = await run_menu(sandbox)
    await sandbox.post("click", channel=CHANNEL, ts=menu["ts"], action_id="open")
    await sandbox.workspace.wait_for("views.open")
    modal = (await sandbox.state())["modal"]
    assert (modal["title"], modal["submit"], modal["close"], modal["errors"]) == (
        "Add a customer",
        "Add",
        "Cancel",
        {},
    )
    assert (await sandbox.state(ADMIN))["modal"] is None
    view_id = modal["view_id"]

    refused = await sandbox.post("submit", view_id=view_id, values={"name": {"value": ""}})
    assert refused.status_code == 200
    assert refused.json()["errors"] == {"name": "Give the customer a name"}
    assert (await sandbox.state())["modal"]["errors"] == {"name": "Give the customer a name"}

    added = await sandbox.post("submit", view_id=view_id, values={"name": {"value": "Acme"}})
    assert (added.status_code, added.json()["closed"]) == (200, True)
    assert (await sandbox.state())["modal"] is None
    await sandbox.workspace.wait_for("chat.postMessage")
    assert (await sandbox.state())["messages"][-1]["text"] == "Added *Acme*"

    await sandbox.post("click", channel=CHANNEL, ts=menu["ts"], action_id="open")
    await sandbox.workspace.wait_for("views.open", count=2)
    again = (await sandbox.state())["modal"]["view_id"]
    closed = await sandbox.post("close", view_id=again)
    assert closed.status_code == 200
    assert (await sandbox.state())["modal"] is None
    assert sandbox.bot.received[-1] == "closed"
    gone = await sandbox.post("submit", view_id=again, values={})
    assert gone.status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("command", {"user": "U0NOBODY", "text": "help"}, "unknown user"),
        ("command", {"user": AGENT, "text": "/giphy cats"}, "only /xero is installed"),
        ("click", {"user": AGENT, "channel": CHANNEL, "ts": "1.000001"}, "'action_id' must"),
        (
            "click",
            {"user": AGENT, "channel": CHANNEL, "ts": "1.000001", "action_id": "x"},
            "no message",
        ),
        ("click", {"user": AGENT, "view_id": "V404", "action_id": "x"}, "no view V404"),
        ("select", {"user": AGENT, "channel": CHANNEL, "ts": "1.1", "action_id": "x"}, "'values'"),
        ("submit", {"user": AGENT}, "'view_id' must"),
        ("close", {"user": AGENT, "view_id": "V404"}, "no view V404"),
    ],
)
async def test_bad_input_is_a_400_with_a_json_error(
    sandbox: Sandbox, path: str, body: dict[str, Any], error: str
) -> None:
    response = await sandbox.http.post(f"/sandbox/api/{path}", json=body)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert "Traceback" not in response.text


async def test_unknown_actions_and_foreign_messages_are_400(sandbox: Sandbox) -> None:
    menu = await run_menu(sandbox)
    (ack,) = [m for m in (await sandbox.state())["messages"] if m["ephemeral"]]
    where = {"channel": CHANNEL, "ts": menu["ts"]}
    unknown = await sandbox.post("click", **where, action_id="launch")
    assert unknown.status_code == 400
    assert "0 elements match launch" in unknown.json()["error"]
    no_option = await sandbox.post("select", **where, action_id="plan", values=["gold"])
    assert no_option.status_code == 400
    assert "no option 'gold'" in no_option.json()["error"]
    needs_choice = await sandbox.post("click", **where, action_id="plan")
    assert needs_choice.status_code == 400
    not_theirs = await sandbox.http.post(
        "/sandbox/api/click",
        json={"user": ADMIN, "channel": CHANNEL, "ts": ack["ts"], "action_id": "x"},
    )
    assert not_theirs.status_code == 400
    for content, kind in (("{", "application/json"), ("[]", "application/json"), ("a=b", "")):
        bad = await sandbox.http.post(
            "/sandbox/api/command", content=content, headers={"content-type": kind}
        )
        assert bad.status_code == 400
        assert bad.json()["error"]
    for query in ({"user": "U0NOBODY"}, {"user": AGENT, "since": "soon"}):
        assert (await sandbox.http.get("/sandbox/api/state", params=query)).status_code == 400
    assert sandbox.bot.received == ["command menu"]


@pytest.mark.browser
async def test_the_console_in_a_real_browser(sandbox: Sandbox, tmp_path: Path) -> None:
    chromium = require_chromium()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    problems: list[str] = []

    async def shoot(page: Page, name: str) -> None:
        await page.screenshot(path=shots / f"{name}.png")

    async with serve(sandbox.app, free_socket()) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
            page = await context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            await page.goto(f"{url}/sandbox/")
            await expect(
                page.get_by_role("heading", name="Slack console (sandbox)")
            ).to_be_visible()
            await expect(page.get_by_text("Live")).to_be_visible()
            await shoot(page, "01-empty")

            await page.get_by_label("Message", exact=True).fill("/xero menu")
            await page.get_by_label("Message", exact=True).press("Enter")
            await expect(page.get_by_role("heading", name="Acme Bikes")).to_be_visible()
            await expect(page.get_by_text("Working on menu")).to_be_visible()
            await expect(page.get_by_text("Only visible to you")).to_have_count(1)
            await expect(page.locator("strong", has_text="Consent link")).to_be_visible()
            await expect(page.locator("em", has_text="Acme")).to_be_visible()
            await expect(page.locator("code", has_text="S1")).to_be_visible()
            await expect(page.get_by_text("@Ada Agent")).to_be_visible()
            docs = page.get_by_role("link", name="the docs")
            await expect(docs).to_have_attribute("href", "https://example.test/docs?a=1&b=2")
            await expect(docs).to_have_attribute("rel", "noopener noreferrer")
            await expect(page.get_by_text("14 Nov 2023")).to_be_visible()
            bare = page.get_by_role("link", name="https://example.test/b_c_d", exact=True)
            await expect(bare).to_have_attribute("href", "https://example.test/b_c_d")
            await expect(page.get_by_text("1 < 2 & <script>alert(1)</script> ✅")).to_be_visible()
            assert await page.locator("script").count() == 1
            await expect(page.get_by_text("Licence")).to_be_visible()
            await expect(page.get_by_text("Customer #7 · 3 stores")).to_be_visible()
            await shoot(page, "02-menu")

            confirm = page.get_by_role("dialog", name="Revoke this link?")
            await page.get_by_role("button", name="Revoke link").click()
            await expect(confirm).to_be_visible()
            await expect(confirm).to_contain_text("The customer will not be able to use it.")
            await shoot(page, "03-confirm")
            await confirm.get_by_role("button", name="Keep it").click()
            await expect(confirm).to_be_hidden()
            await page.get_by_role("button", name="Revoke link").click()
            await confirm.get_by_role("button", name="Revoke").click()
            await expect(page.get_by_text("1 reply")).to_be_visible()
            await expect(page.get_by_text("Link revoked by @Ada Agent")).to_be_visible()

            await page.get_by_label("Plan", exact=True).select_option("standard")
            await expect(page.get_by_text("Plan standard chosen")).to_be_visible()
            await expect(page.get_by_label("Plan", exact=True)).to_have_value("standard")

            await page.get_by_text("Choose stores").click()
            stores = page.get_by_role("group", name="Choose stores")
            await stores.get_by_label("North").check()
            await stores.get_by_label("East").check()
            await shoot(page, "04-stores")
            await stores.get_by_role("button", name="Apply").click()
            await expect(page.get_by_text("Stores chosen: north, east")).to_be_visible()
            await expect(page.get_by_text("(edited)")).to_be_visible()
            await shoot(page, "05-chosen")

            await page.get_by_role("button", name="Add customer").click()
            modal = page.get_by_role("dialog", name="Add a customer")
            await expect(modal).to_be_visible()
            await expect(modal.get_by_text("As the helpdesk knows them")).to_be_visible()
            await modal.get_by_role("button", name="Add").click()
            await expect(modal.get_by_text("Give the customer a name")).to_be_visible()
            name = modal.get_by_label("Customer name")
            await expect(name).to_have_attribute("aria-invalid", "true")
            await shoot(page, "06-modal-error")
            await name.fill("Acme 🚲 Bikes")
            await modal.get_by_role("button", name="Add").click()
            await expect(modal).to_be_hidden()
            await expect(page.get_by_text("Added Acme 🚲 Bikes")).to_be_visible()
            await shoot(page, "07-added")

            await page.get_by_label("Acting as").select_option(ADMIN)
            await expect(page.get_by_text("Added Acme 🚲 Bikes")).to_be_visible()
            await expect(page.get_by_text("Only visible to you")).to_have_count(0)
            await expect(page.get_by_label("Plan", exact=True)).to_have_value("")
            await expect(page.get_by_text("Choose stores", exact=True)).to_be_visible()
            await shoot(page, "08-admin")
        finally:
            await browser.close()
    assert sandbox.bot.received == [
        "command menu",
        "revoke r1",
        "plan standard",
        "stores north,east",
        "open",
        "submit ",
        "submit Acme 🚲 Bikes",
    ]
    assert problems == []


async def test_threads_interleave_ephemeral_replies_and_direct_messages_show(
    sandbox: Sandbox,
) -> None:
    ws = sandbox.workspace
    parent = ws.post(CHANNEL, text="parent")
    ws.post(CHANNEL, text="for everyone", thread_ts=parent.ts)
    ws.post(CHANNEL, text="just for Ada", thread_ts=parent.ts, ephemeral_to=AGENT)
    ws.post(CHANNEL, text="after", ephemeral_to=AGENT)
    ws.post(AGENT, text="psst")
    mine = await sandbox.state()
    assert [(m["text"], m["ephemeral"]) for m in mine["messages"]] == [
        ("parent", False),
        ("after", True),
    ]
    assert [(r["text"], r["ephemeral"]) for r in mine["messages"][0]["replies"]] == [
        ("for everyone", False),
        ("just for Ada", True),
    ]
    assert [m["text"] for m in mine["direct"]] == ["psst"]
    theirs = await sandbox.state(ADMIN)
    assert [m["text"] for m in theirs["messages"]] == ["parent"]
    assert [r["text"] for r in theirs["messages"][0]["replies"]] == ["for everyone"]
    assert theirs["direct"] == []
    dm = mine["direct"][0]
    peek = await sandbox.http.post(
        "/sandbox/api/click",
        json={"user": ADMIN, "channel": dm["channel"], "ts": dm["ts"], "action_id": "x"},
    )
    assert peek.status_code == 400
