"""What the console's sidebar tests share: a Bolt app standing in for the bot (it answers
/xero where it was typed, posts alerts, publishes Home views) and a console over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route

from sandbox.console import ConsoleUser, console_routes
from sandbox.fake_slack import SignedRequest, SlackDriver, Workspace, create_app
from tests.browser import free_socket, serve

SECRET = "console-sidebar-secret"
AGENT, OUTSIDER = "U0AGENT", "U0OUTSIDER"
HELPDESK, ALERTS = "C0HELPDESK", "C0ALERTS"
USERS = [
    ConsoleUser(AGENT, "Ada Agent", "helpdesk agent"),
    ConsoleUser(OUTSIDER, "Olly Outsider", "not helpdesk"),
]
HOST = "http://console.test"
OUTSIDER_LINE = "This bot is for the helpdesk: ask an admin."


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, text: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": value, "text": plain(text)}


def alert_blocks(text: str) -> list[dict[str, Any]]:
    return [section(text), {"type": "actions", "elements": [button("retry", "Check again", "1")]}]


def home_blocks(opened: int) -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": plain("What needs attention")},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Opened {opened} times"}]},
        section("*2 stores* need reconnecting <&lt;b&gt;bold&lt;/b&gt;>"),
        {"type": "actions", "elements": [button("refresh_home", "Refresh", "again")]},
    ]


@dataclass
class StandIn:
    """A Bolt app standing in for the bot; it notes what it got, and where from."""

    client: AsyncWebClient
    received: list[str] = field(default_factory=list)
    opened: int = 0

    async def alert(self, text: str) -> str:
        """Post an alert, then edit it and reply in its thread, as the bot does: its ts."""
        posted = await self.client.chat_postMessage(
            channel=ALERTS, text=text, blocks=alert_blocks(f"*{text}*")
        )
        ts = str(posted["ts"])
        await self.client.chat_update(
            channel=ALERTS, ts=ts, text=text, blocks=alert_blocks(f"*{text}* (2 stores)")
        )
        await self.client.chat_postMessage(channel=ALERTS, thread_ts=ts, text="Store York broke")
        return ts

    async def publish_home(self, user: str, hash: str | None = None) -> None:
        self.opened += 1
        blocks = [section(OUTSIDER_LINE)] if user == OUTSIDER else home_blocks(self.opened)
        view = {"type": "home", "blocks": blocks}
        await self.client.views_publish(user_id=user, view=view, hash=hash)

    def app(self) -> AsyncApp:
        app = AsyncApp(client=self.client, signing_secret=SECRET)

        @app.command("/xero")
        async def command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
            self.received.append(f"command {command['text']} in {command['channel_id']}")
            await ack()
            await respond(text=f"Answer to {command['text']}", response_type="in_channel")

        @app.action("retry")
        async def retry(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            channel = body["channel"]["id"]
            self.received.append(f"retry {body['actions'][0]['value']} in {channel}")
            assert body["container"]["channel_id"] == channel
            await client.chat_postMessage(
                channel=channel,
                thread_ts=body["container"]["message_ts"],
                text=f"Checked again by <@{body['user']['id']}>",
            )

        @app.event("app_home_opened")
        async def home_opened(event: dict[str, Any]) -> None:
            self.received.append(f"home opened by {event['user']}")
            await self.publish_home(event["user"])

        @app.action("refresh_home")
        async def refresh(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            view, container = body["view"], body["container"]
            self.received.append(f"refresh in {view['type']} {container['view_id'] == view['id']}")
            await self.publish_home(body["user"]["id"], hash=view["hash"])

        return app


@dataclass
class Console:
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


@asynccontextmanager
async def console_over_stand_in(**options: Any) -> AsyncIterator[Console]:
    """The console (with `options` for `console_routes`) over a served fake Slack, with the
    alerts channel beside the helpdesk one, driving a `StandIn`."""
    workspace = Workspace()
    workspace.add_channel(ALERTS, "xero-alerts")
    async with serve(create_app(workspace), free_socket()) as slack_url:
        workspace.base_url = slack_url
        bot = StandIn(AsyncWebClient(token=workspace.bot_token, base_url=f"{slack_url}/api/"))
        handler = AsyncSlackRequestHandler(bot.app())

        async def events(request: Request) -> Any:
            return await handler.handle(request)

        app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as http:

            async def send(request: SignedRequest) -> httpx.Response:
                return await http.post(
                    "/slack/events", content=request.body, headers=request.headers
                )

            driver = SlackDriver(workspace, SECRET, send)
            routes = console_routes(
                workspace=workspace, driver=driver, users=USERS, channels=[ALERTS], **options
            )
            app.router.routes.append(Mount("/sandbox", routes=routes))
            yield Console(workspace, bot, app, http)


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]
