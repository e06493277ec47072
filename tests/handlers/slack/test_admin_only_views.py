"""The admin-only listener middleware on a modal submission: a non-admin is refused in
the modal itself, and audited; an admin's submission reaches the listener.

No modal of the bot is admin-only today, so the bot's Slack app gets one more for these
tests: "Add a customer" under another callback id, behind `admin_only`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.common.vault import Vault
from bot.domain.errors import NotFound
from handlers.slack import AccessPolicy, Runtime, build_slack_app, ids
from handlers.slack.admin import admin_only
from handlers.slack.blocks.modals import register_customer_view
from handlers.slack.views.register_customer import register_customer
from handlers.slack.views.state import ViewState
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import ModalView, SignedRequest, SlackDriver
from tests.conftest import ENCRYPTION_KEY
from tests.domain_helpers import find_customer
from tests.handlers.slack.admin_helpers import refusals, timed
from tests.slack_fixtures import ADMIN, AGENT, SIGNING_SECRET, Slack

GUARDED_VIEW = "admins_register_customer"


def adding(view: dict[str, Any]) -> str:
    name = ViewState.of(view).text(ids.NAME_BLOCK, ids.NAME_INPUT, max_length=200)
    return f"add customer {name}"


@dataclass
class Guarded:
    driver: SlackDriver
    client: AsyncWebClient

    async def modal(self, slack: Slack, user: str) -> ModalView:
        view = {**register_customer_view(), "callback_id": GUARDED_VIEW}
        await self.client.views_open(trigger_id=slack.workspace.new_trigger_id(user), view=view)
        return slack.workspace.views_of(user)[-1]


@pytest.fixture
async def guarded(slack: Slack) -> AsyncIterator[Guarded]:
    """The bot's Slack app with one more modal, for admins only: "Add a customer"."""
    client = AsyncWebClient(
        token=slack.workspace.bot_token, base_url=f"{slack.workspace.base_url}/api/"
    )
    runtime = Runtime(
        deps=lambda: slack.deps,
        access=AccessPolicy(helpdesk_users=frozenset({AGENT}), admin_users=frozenset({ADMIN})),
        vault=Vault([ENCRYPTION_KEY]),
    )
    bolt = build_slack_app(signing_secret=SIGNING_SECRET, client=client, runtime=runtime)
    only_admins = admin_only("add customers from this form", adding)
    bolt.view(GUARDED_VIEW, middleware=[only_admins])(register_customer)
    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://bot.test") as http:

        async def send(request: SignedRequest) -> httpx.Response:
            return await http.post("/slack/events", content=request.body, headers=request.headers)

        yield Guarded(SlackDriver(slack.workspace, SIGNING_SECRET, send), client)


def modal_values(name: str, key: str) -> dict[str, dict[str, str]]:
    return {ids.NAME_BLOCK: {ids.NAME_INPUT: name}, ids.KEY_BLOCK: {ids.KEY_INPUT: key}}


async def test_a_non_admin_submitting_an_admin_only_modal_is_refused_in_it(
    slack: Slack, guarded: Guarded, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key-acme", group="acme")
    view = await guarded.modal(slack, AGENT)

    response = await timed(
        guarded.driver.submit(view, modal_values("Acme", "key-acme"), user_id=AGENT)
    )

    answer = response.json()
    assert answer["response_action"] == "update"
    shown = json.dumps(slack.workspace.views_of(AGENT)[-1].view)
    assert "Only helpdesk admins can add customers from this form." in shown
    assert "key-acme" not in json.dumps(answer)
    assert await refusals(slack, count=1) == [(f"slack:{AGENT}", "add customer Acme")]
    with pytest.raises(NotFound):
        await find_customer(slack.deps, query="Acme")


async def test_an_admin_submitting_an_admin_only_modal_gets_through(
    slack: Slack, guarded: Guarded, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key-acme", group="acme")
    view = await guarded.modal(slack, ADMIN)

    response = await timed(
        guarded.driver.submit(view, modal_values("Acme", "key-acme"), user_id=ADMIN)
    )

    assert response.json()["response_action"] == "update"
    assert "is registered" in json.dumps(slack.workspace.views_of(ADMIN)[-1].view)
    assert (await find_customer(slack.deps, query="Acme")).name == "Acme"
    assert await refusals(slack) == []
