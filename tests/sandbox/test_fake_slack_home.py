"""The fake Slack's App Home: views.publish as Slack checks it, and `app_home_opened`
events signed as Slack signs them, driven through a small Bolt app."""

from __future__ import annotations

import json
from typing import Any

import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from sandbox.fake_slack import SignedRequest, SlackDriver, Workspace, app_home_opened
from tests.sandbox.slack_errors import error_of

SECRET = "fake-slack-home-secret"
AGENT = "U0AGENT"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}


async def test_views_publish_keeps_the_latest_home_per_user(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    first = await client.views_publish(user_id=AGENT, view={"type": "home", "blocks": [SECTION]})
    assert first["view"]["type"] == "home"
    assert first["view"]["blocks"] == [SECTION]
    home = workspace.home_of(AGENT)
    assert home is not None
    assert (home.id, home.hash, home.blocks) == (
        first["view"]["id"],
        first["view"]["hash"],
        [SECTION],
    )

    again = {"type": "home", "blocks": [SECTION, {"type": "divider"}]}
    second = await client.views_publish(user_id=AGENT, view=again, hash=home.hash)
    assert second["view"]["id"] == home.id
    assert workspace.home_of(AGENT) is home
    assert home.blocks == [SECTION, {"type": "divider"}]
    assert workspace.home_of("U0LEAD") is None
    assert [call.args["user_id"] for call in workspace.calls_to("views.publish")] == [AGENT, AGENT]


async def test_views_publish_refuses_what_slack_refuses(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": [SECTION]}
    too_many = {"type": "home", "blocks": [SECTION] * 101}
    assert await error_of(client.views_publish(user_id=AGENT, view=modal)) == "invalid_arguments"
    assert await error_of(client.views_publish(user_id=AGENT, view=too_many)) == (
        "invalid_arguments"
    )
    home = {"type": "home", "blocks": [SECTION] * 100}
    assert await error_of(client.views_publish(user_id="U0NOBODY", view=home)) == "user_not_found"
    assert await error_of(client.views_publish(user_id=AGENT, view=home, hash="stale")) == (
        "hash_conflict"
    )
    assert workspace.home_of(AGENT) is None
    await client.views_publish(user_id=AGENT, view=home)  # 100 blocks are allowed
    assert [call.error for call in workspace.calls_to("views.publish")] == [
        "invalid_arguments",
        "invalid_arguments",
        "user_not_found",
        "hash_conflict",
        None,
    ]


def test_an_app_home_opened_event_is_signed_json_as_slack_sends_it() -> None:
    request = app_home_opened(
        signing_secret=SECRET, user_id=AGENT, channel_id="DU0AGENT", event_id="Ev1"
    )
    assert request.headers["content-type"] == "application/json"
    verifier = SignatureVerifier(SECRET)
    stamp = request.headers["x-slack-request-timestamp"]
    assert verifier.is_valid(request.body, stamp, request.headers["x-slack-signature"])
    assert not SignatureVerifier("other").is_valid(
        request.body, stamp, request.headers["x-slack-signature"]
    )
    body = json.loads(request.body)
    assert (body["type"], body["event_id"], body["api_app_id"]) == (
        "event_callback",
        "Ev1",
        "A0SANDBOX",
    )
    assert body["event"]["type"] == "app_home_opened"
    assert (body["event"]["user"], body["event"]["channel"], body["event"]["tab"]) == (
        AGENT,
        "DU0AGENT",
        "home",
    )
    assert "view" not in body["event"]


def home_app(client: AsyncWebClient, seen: list[dict[str, Any]]) -> Starlette:
    """A Bolt app that publishes a Home saying how often it was opened."""
    app = AsyncApp(signing_secret=SECRET, client=client)

    @app.event("app_home_opened")
    async def opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.append(event)
        text = f"Opened {len(seen)} times"
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Any:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


async def test_a_bolt_app_hears_the_home_opened_and_publishes(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    seen: list[dict[str, Any]] = []
    transport = httpx.ASGITransport(app=home_app(client, seen))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:

        async def send(request: SignedRequest) -> httpx.Response:
            return await http.post("/slack/events", content=request.body, headers=request.headers)

        driver = SlackDriver(workspace, SECRET, send)
        assert (await driver.open_home(AGENT)).status_code == 200
        await workspace.wait_for("views.publish")
        home = workspace.home_of(AGENT)
        assert home is not None
        assert home.blocks[0]["text"]["text"] == "Opened 1 times"

        assert (await driver.open_home(AGENT)).status_code == 200
        await workspace.wait_for("views.publish", count=2)
        assert home.blocks[0]["text"]["text"] == "Opened 2 times"
        assert "view" not in seen[0]
        assert seen[1]["view"]["id"] == home.id  # Slack sends the Home published before
        assert seen[1]["view"]["blocks"][0]["text"]["text"] == "Opened 1 times"
        assert (seen[0]["channel"], seen[0]["tab"]) == (f"D{AGENT}", "home")
    assert [c.error for c in workspace.calls] == [None] * len(workspace.calls)
