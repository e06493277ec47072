"""A Bolt app standing in for the bot's "Posting set-up" modal, for the fake Slack's and the
console's tests: an external select searching a chart of accounts, option groups, radio
buttons, date pickers, optional inputs, and a "Copy from another store" select in an
actions block that updates the modal."""

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
from starlette.routing import Route

from sandbox.fake_slack import SignedRequest, SlackDriver, Workspace, create_app
from tests.browser import free_socket, serve

SECRET = "posting-setup-secret"
AGENT = "U0AGENT"
HELPDESK = "C0HELPDESK"
HOST = "http://bot.test"
ACCOUNTS = [("200", "Sales"), ("260", "Other Revenue"), ("400", "Advertising <b>&</b>")]


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def account(code: str) -> dict[str, Any]:
    name = dict(ACCOUNTS)[code]
    return option(f"{code} · {name}", code)


def input_block(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        **extra,
    }


STORES = [
    option("Store York", "york"),
    option("Store Leeds", "leeds"),
    option("Store Hull", "hull"),
]
DRAFT, AUTHORISED = option("Draft", "DRAFT"), option("Authorised", "AUTHORISED")
REGIONS = {
    "label": plain("Region"),
    "options": [option("North", "north"), option("South", "south")],
}
CHANNELS = {
    "label": plain("Channel"),
    "options": [option("Online", "online"), option("Shop", "shop")],
}
TAXES = [
    {
        "label": plain("Sales"),
        "options": [option("GST on income", "OUTPUT"), option("Exempt", "EXEMPT")],
    },
    {"label": plain("Other"), "options": [option("No GST", "NONE")]},
]


def setup_blocks(
    *, sales: str = "200", status: dict[str, Any] = DRAFT, start: str = "2024-07-01"
) -> list[dict[str, Any]]:
    """The modal's blocks; "Copy from" rebuilds them with another store's choices."""
    return [
        {
            "type": "actions",
            "block_id": "copy",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "copy_from",
                    "placeholder": plain("Copy from another store"),
                    "options": [option("Store York", "york"), option("Store Leeds", "leeds")],
                }
            ],
        },
        input_block(
            f"sales-{sales}",
            "Sales account",
            {
                "type": "external_select",
                "action_id": "account",
                "placeholder": plain("Search accounts"),
                "initial_option": account(sales),
            },
        ),
        input_block(
            "contact",
            "Contact",
            {"type": "external_select", "action_id": "contact", "min_query_length": 1},
            optional=True,
        ),
        input_block(
            f"status-{status['value']}",
            "Invoice status",
            {
                "type": "radio_buttons",
                "action_id": "status",
                "options": [DRAFT, AUTHORISED],
                "initial_option": status,
            },
        ),
        input_block(
            f"start-{start}",
            "Start date",
            {"type": "datepicker", "action_id": "start", "initial_date": start},
        ),
        input_block("end", "End date", {"type": "datepicker", "action_id": "end"}, optional=True),
        input_block(
            "stores",
            "Also for stores",
            {
                "type": "multi_external_select",
                "action_id": "stores",
                "min_query_length": 0,
                "initial_options": [STORES[0]],
            },
            optional=True,
        ),
        input_block(
            "tracking",
            "Tracking",
            {
                "type": "static_select",
                "action_id": "tracking",
                "option_groups": [REGIONS, CHANNELS],
            },
            optional=True,
        ),
        input_block(
            "tax",
            "Tax rate",
            {
                "type": "static_select",
                "action_id": "tax",
                "option_groups": TAXES,
                "initial_option": TAXES[1]["options"][0],
            },
        ),
    ]


def setup_view(**choices: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "posting_setup",
        "private_metadata": "store-42",
        "title": plain("Posting set-up"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": setup_blocks(**choices),
    }


@dataclass
class SetupApp:
    """The Bolt app; it notes each payload it got, by kind."""

    client: AsyncWebClient
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    submitted: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> AsyncApp:
        app = AsyncApp(client=self.client, signing_secret=SECRET)

        @app.command("/xero")
        async def command(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=setup_view())

        @app.options("account")
        async def accounts(ack: Any, payload: dict[str, Any]) -> None:
            self.suggestions.append(payload)
            typed = payload["value"].lower()
            found = [account(code) for code, name in ACCOUNTS if typed in f"{code} {name}".lower()]
            await ack(options=found)

        @app.options("contact")
        async def contacts(ack: Any, payload: dict[str, Any]) -> None:
            self.suggestions.append(payload)
            people = [
                option(f"{payload['value']} Ltd", "c1"),
                option(f"{payload['value']} & Co", "c2"),
            ]
            groups = [
                {"label": plain("Customers"), "options": people},
                {"label": plain("Suppliers"), "options": [option("Acme Supplies", "s1")]},
            ]
            await ack(option_groups=groups)

        @app.options("stores")
        async def stores(ack: Any, payload: dict[str, Any]) -> None:
            self.suggestions.append(payload)
            typed = payload["value"].lower()
            await ack(options=[store for store in STORES if typed in store["text"]["text"].lower()])

        @app.action("account")
        async def account_chosen(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self.actions.append(body)

        @app.action("copy_from")
        async def copy_from(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            self.actions.append(body)
            view = body["view"]
            copied = setup_view(sales="260", status=AUTHORISED, start="2024-08-01")
            await client.views_update(view_id=view["id"], hash=view["hash"], view=copied)

        @app.view("posting_setup")
        async def save(ack: Any, body: dict[str, Any]) -> None:
            self.submitted.append(body)
            values = body["view"]["state"]["values"]
            if values["end"]["end"]["selected_date"] == "1999-01-01":
                await ack(response_action="errors", errors={"end": "The end is before the start"})
                return
            await ack()

        return app


@dataclass
class Served:
    workspace: Workspace
    bot: SetupApp
    driver: SlackDriver
    app: Starlette
    sent: list[SignedRequest]


@asynccontextmanager
async def setup_over_fake_slack() -> AsyncIterator[Served]:
    """A served fake Slack, the Bolt app behind it, and a driver that notes what it sent."""
    workspace = Workspace()
    workspace.add_user(AGENT, "agent")
    async with serve(create_app(workspace), free_socket()) as slack_url:
        workspace.base_url = slack_url
        bot = SetupApp(AsyncWebClient(token=workspace.bot_token, base_url=f"{slack_url}/api/"))
        handler = AsyncSlackRequestHandler(bot.app())

        async def events(request: Request) -> Any:
            return await handler.handle(request)

        app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
        sent: list[SignedRequest] = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as http:

            async def send(request: SignedRequest) -> httpx.Response:
                sent.append(request)
                return await http.post(
                    "/slack/events", content=request.body, headers=request.headers
                )

            yield Served(workspace, bot, SlackDriver(workspace, SECRET, send), app, sent)
