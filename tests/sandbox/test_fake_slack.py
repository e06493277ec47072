"""The fake Slack, driven over real HTTP by slack_sdk's own async clients and by Bolt."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from sandbox.fake_slack import (
    SignedRequest,
    SlackDriver,
    Workspace,
    block_actions,
    slash_command,
)
from tests.sandbox.slack_errors import error_of

SECRET = "fake-slack-test-secret"
AGENT = "U0AGENT"
HELPDESK = "C0HELPDESK"
SECTION = {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Hi"}}


async def test_post_update_and_thread_reply(workspace: Workspace, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(
        channel=HELPDESK, text="Hello", blocks=[SECTION], unfurl_links=False
    )
    assert posted["channel"] == HELPDESK
    assert posted["message"]["blocks"] == [SECTION]
    ts = posted["ts"]
    (message,) = workspace.messages(HELPDESK)
    assert (message.ts, message.user, message.text) == (ts, "U0BOT", "Hello")
    assert (message.unfurl_links, message.unfurl_media, message.edited) == (False, None, False)

    updated = await client.chat_update(channel=HELPDESK, ts=ts, text="Bye", blocks=[])
    assert updated["text"] == "Bye"
    assert (message.text, message.blocks, message.edited) == ("Bye", [], True)
    assert await error_of(client.chat_update(channel=HELPDESK, ts="1.000001", text="x")) == (
        "message_not_found"
    )

    reply = await client.chat_postMessage(channel=HELPDESK, text="in thread", thread_ts=ts)
    nested = await client.chat_postMessage(channel=HELPDESK, text="again", thread_ts=reply["ts"])
    assert [m.text for m in workspace.messages(HELPDESK)] == ["Bye"]
    assert [m.text for m in workspace.replies(HELPDESK, ts)] == ["in thread", "again"]
    assert nested["message"]["thread_ts"] == ts
    assert float(ts) < float(reply["ts"]) < float(nested["ts"])

    dm = await client.chat_postMessage(channel=AGENT, text="psst")
    assert dm["channel"] == f"D{AGENT}"
    assert [m.text for m in workspace.messages(AGENT)] == ["psst"]
    assert await error_of(client.chat_postMessage(channel="C0NOWHERE", text="x")) == (
        "channel_not_found"
    )
    link = await client.chat_getPermalink(channel=HELPDESK, message_ts=ts)
    assert link["permalink"].endswith(f"/archives/{HELPDESK}/p{ts.replace('.', '')}")


async def test_form_bodies_and_get_parameters_are_decoded(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    await client.api_call(
        "chat.postMessage",
        data={"channel": HELPDESK, "text": "form", "blocks": json.dumps([SECTION])},
    )
    (call,) = workspace.calls_to("chat.postMessage")
    assert call.args == {"channel": HELPDESK, "text": "form", "blocks": [SECTION]}
    assert workspace.messages(HELPDESK)[0].blocks == [SECTION]
    info = await client.users_info(user=AGENT)
    assert info["user"]["name"] == info["user"]["real_name"] == "agent"
    assert await error_of(client.users_info(user="U0GHOST")) == "user_not_found"


async def test_ephemeral_messages_belong_to_one_user(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    answer = await client.chat_postEphemeral(channel=HELPDESK, user=AGENT, text="only you")
    (message,) = workspace.ephemeral(HELPDESK, AGENT)
    assert (message.ts, message.ephemeral_to, message.text) == (
        answer["message_ts"],
        AGENT,
        "only you",
    )
    assert workspace.messages(HELPDESK) == []
    assert workspace.ephemeral(HELPDESK, "U0LEAD") == []
    update = client.chat_update(channel=HELPDESK, ts=message.ts, text="x")
    assert await error_of(update) == "cant_update_message"


def modal(title: str = "Connect", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "connect",
        "title": {"type": "plain_text", "text": title},
        "blocks": [SECTION],
        **extra,
    }


async def test_views_need_fresh_unused_triggers(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    trigger = workspace.new_trigger_id(AGENT)
    opened = await client.views_open(trigger_id=trigger, view=modal(private_metadata="42"))
    view = opened["view"]
    assert view["id"].startswith("V")
    assert view["hash"]
    assert (view["callback_id"], view["private_metadata"]) == ("connect", "42")
    (held,) = workspace.views_of(AGENT)
    assert (held.id, held.hash, held.position, held.closed) == (view["id"], view["hash"], 0, False)
    assert held.view == modal(private_metadata="42")

    assert await error_of(client.views_open(trigger_id=trigger, view=modal())) == (
        "trigger_exchanged"
    )
    assert await error_of(client.views_open(trigger_id="1.2.3", view=modal())) == (
        "invalid_trigger_id"
    )
    too_long = modal(title="A title well over the limit")
    fresh = workspace.new_trigger_id(AGENT)
    assert await error_of(client.views_open(trigger_id=fresh, view=too_long)) == (
        "invalid_arguments"
    )


async def test_expired_trigger(workspace: Workspace, client: AsyncWebClient) -> None:
    now = [100.0]
    workspace.clock = lambda: now[0]
    trigger = workspace.new_trigger_id(AGENT)
    now[0] += 3.5
    assert await error_of(client.views_open(trigger_id=trigger, view=modal())) == (
        "expired_trigger_id"
    )


async def test_views_update_checks_hash_and_push_stacks(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    view = (await client.views_open(trigger_id=workspace.new_trigger_id(AGENT), view=modal()))[
        "view"
    ]
    stale = client.views_update(view_id=view["id"], hash="0.stale", view=modal("Loaded"))
    assert await error_of(stale) == "hash_conflict"
    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Done"))
    assert updated["view"]["hash"] != view["hash"]
    assert workspace.view(view["id"]).view["title"]["text"] == "Done"
    assert await error_of(client.views_update(view_id="V404", view=modal())) == "not_found"

    for position in (1, 2):
        trigger = workspace.new_trigger_id(AGENT, view_id=view["id"])
        pushed = await client.views_push(trigger_id=trigger, view=modal(f"Step {position}"))
        assert workspace.view(pushed["view"]["id"]).position == position
    trigger = workspace.new_trigger_id(AGENT, view_id=view["id"])
    assert await error_of(client.views_push(trigger_id=trigger, view=modal())) == (
        "push_limit_reached"
    )


async def test_bad_token_and_unknown_method(workspace: Workspace, client: AsyncWebClient) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=f"{workspace.base_url}/api/")
    assert await error_of(wrong.chat_postMessage(channel=HELPDESK, text="x")) == "invalid_auth"
    assert await error_of(client.api_call("chat.teleport")) == "unknown_method"
    assert workspace.messages(HELPDESK) == []
    me = await client.auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T0SANDBOX", "U0BOT", "B0BOT")
    assert [(c.method, c.error) for c in workspace.calls] == [
        ("chat.postMessage", "invalid_auth"),
        ("chat.teleport", "unknown_method"),
        ("auth.test", None),
    ]
    assert "xox" not in repr(workspace.calls)


async def test_usergroups_and_conversations(workspace: Workspace, client: AsyncWebClient) -> None:
    workspace.add_usergroup("S0AGENTS", [AGENT, "U0LEAD"])
    assert (await client.usergroups_users_list(usergroup="S0AGENTS"))["users"] == [
        AGENT,
        "U0LEAD",
    ]
    assert await error_of(client.usergroups_users_list(usergroup="S0NONE")) == "no_such_subteam"
    opened = await client.conversations_open(users=[AGENT])
    assert opened["channel"]["id"] == f"D{AGENT}"


async def test_response_urls(workspace: Workspace) -> None:
    original = workspace.post(HELPDESK, text="Pick one", blocks=[SECTION])
    for_message = workspace.response_url(channel_id=HELPDESK, user_id=AGENT, message_ts=original.ts)
    answer = await AsyncWebhookClient(for_message).send(text="Picked", replace_original=True)
    assert (answer.status_code, answer.body) == (200, "ok")
    assert (original.text, original.blocks, original.ephemeral_to) == ("Picked", [], None)

    for_command = workspace.response_url(channel_id=HELPDESK, user_id=AGENT)
    webhook = AsyncWebhookClient(for_command)
    assert (await webhook.send(text="Working…")).status_code == 200
    (ephemeral,) = workspace.ephemeral(HELPDESK, AGENT)
    assert ephemeral.text == "Working…"
    await webhook.send(text="Done", replace_original=True)
    assert [m.text for m in workspace.ephemeral(HELPDESK, AGENT)] == ["Done"]
    await webhook.send(text="For all", response_type="in_channel")
    assert [m.text for m in workspace.messages(HELPDESK)] == ["Picked", "For all"]
    await webhook.send_dict({"delete_original": True})
    assert [m.text for m in workspace.messages(HELPDESK)] == ["Picked"]

    calls = await workspace.wait_for("response_url", count=5)
    assert calls[0].args == {"text": "Picked", "replace_original": True}
    missing = AsyncWebhookClient(f"{workspace.base_url}/response/R404")
    assert (await missing.send(text="x")).status_code == 404


async def test_wait_for_waits_and_times_out_with_the_calls_seen(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    waiting = asyncio.create_task(workspace.wait_for("chat.postMessage", count=2, timeout=5))
    await client.chat_postMessage(channel=HELPDESK, text="one")
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await client.chat_postMessage(channel=HELPDESK, text="two")
    calls = await waiting
    assert [c.args["text"] for c in calls] == ["one", "two"]

    with pytest.raises(AssertionError) as raised:
        await workspace.wait_for("views.open", timeout=0.05)
    message = str(raised.value)
    assert "expected 1 call(s) to views.open within 0.05s, got 0" in message
    assert "chat.postMessage(channel='C0HELPDESK', text='two')" in message


def test_signed_slash_command_verifies_only_with_its_secret_and_while_fresh() -> None:
    def build(timestamp: int | None = None) -> SignedRequest:
        return slash_command(
            signing_secret=SECRET,
            text="connect store 42",
            user_id=AGENT,
            response_url="http://fake/response/R1",
            trigger_id="1.T.abc",
            timestamp=timestamp,
        )

    request = build()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)
    assert not SignatureVerifier("another-secret").is_valid_request(request.body, request.headers)
    old = build(timestamp=int(time.time()) - 600)
    assert not SignatureVerifier(SECRET).is_valid_request(old.body, old.headers)
    fields = {k: v[0] for k, v in parse_qs(request.body).items()}
    assert (fields["command"], fields["text"], fields["channel_id"]) == (
        "/xero",
        "connect store 42",
        HELPDESK,
    )
    actions = block_actions(
        signing_secret=SECRET, user_id=AGENT, actions=[], trigger_id="t", channel_id=HELPDESK
    )
    payload = json.loads(parse_qs(actions.body)["payload"][0])
    assert (payload["type"], payload["container"]["channel_id"]) == ("block_actions", HELPDESK)
    assert SignatureVerifier(SECRET).is_valid_request(actions.body, actions.headers)


# --- a Bolt app driven through the fake, as the scenario tests and the console will -------

PLANS = {
    "type": "static_select",
    "action_id": "plan",
    "options": [
        {"text": {"type": "plain_text", "text": name}, "value": name.lower()}
        for name in ("Starter", "Standard")
    ],
}
MENU = [
    SECTION,
    {
        "type": "actions",
        "block_id": "menu",
        "elements": [
            {"type": "button", "action_id": "open", "text": {"type": "plain_text", "text": "A"}},
            PLANS,
        ],
    },
]
ASK_NAME = modal(
    callback_id="ask_name",
    submit={"type": "plain_text", "text": "Save"},
    blocks=[
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "value", "initial_value": ""},
        }
    ],
)


def bolt_app(client: AsyncWebClient) -> Starlette:
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.command("/xero")
    async def command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack(f"Working on {command['text']}")
        await respond(text="Menu", blocks=MENU, response_type="in_channel")

    @app.action("plan")
    async def plan(ack: Any, respond: Any, body: dict[str, Any]) -> None:
        await ack()
        chosen = body["actions"][0]["selected_option"]["value"]
        await respond(text=f"Plan {chosen}", blocks=MENU, replace_original=True)

    @app.action("open")
    async def open_modal(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=ASK_NAME)

    @app.view("ask_name")
    async def save(ack: Any, view: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        name = view["state"]["values"]["name"]["value"]["value"]
        if not name:
            await ack(response_action="errors", errors={"name": "Required"})
            return
        await ack()
        await client.chat_postMessage(channel=body["user"]["id"], text=f"Saved {name}")

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Any:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


async def test_a_bolt_app_driven_through_the_fake(
    workspace: Workspace, client: AsyncWebClient
) -> None:
    transport = httpx.ASGITransport(app=bolt_app(client))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:

        async def send(request: SignedRequest) -> httpx.Response:
            return await http.post("/slack/events", content=request.body, headers=request.headers)

        driver = SlackDriver(workspace, SECRET, send)
        assert (await driver.command("store 42", user_id=AGENT)).status_code == 200
        assert [m.text for m in workspace.ephemeral(HELPDESK, AGENT)] == ["Working on store 42"]
        await workspace.wait_for("response_url")
        (menu,) = workspace.messages(HELPDESK)
        assert menu.blocks == MENU

        with pytest.raises(LookupError, match="no option 'gold'"):
            await driver.select(menu, "plan", values=["gold"], user_id=AGENT)
        assert (await driver.select(menu, "plan", values=["standard"], user_id=AGENT)) is not None
        await workspace.wait_for("response_url", count=2)
        assert (menu.text, menu.blocks, menu.edited) == ("Plan standard", MENU, True)
        assert driver.state_of(menu)["menu"]["plan"]["selected_option"]["value"] == "standard"

        await driver.click(menu, "open", user_id=AGENT)
        await workspace.wait_for("views.open")
        (view,) = workspace.views_of(AGENT)
        assert view.callback_id == "ask_name"

        await driver.submit(view, {}, user_id=AGENT)
        assert (view.closed, view.errors) == (False, {"name": "Required"})
        await driver.submit(view, {"name": {"value": "Ana"}}, user_id=AGENT)
        assert view.closed
        await workspace.wait_for("chat.postMessage")
        assert [m.text for m in workspace.messages(AGENT)] == ["Saved Ana"]
    assert [c.error for c in workspace.calls] == [None] * len(workspace.calls)
