"""The bot's ASGI app with Slack on: a fake Slack on loopback, signed requests, the emulator."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.app import create_app
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.services import xero_client
from handlers.slack import ids
from handlers.slack.notifier import SlackNotifier
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import HomeView, Message, SignedRequest, SlackDriver, Workspace
from sandbox.fake_slack import create_app as create_fake_slack
from sandbox.xero_emulator import XeroEmulator
from storage.engine import session_factory
from tests.browser import free_socket, serve
from tests.conftest import ENCRYPTION_KEY, Clock, _no_sleep, cloudpos_client
from tests.domain_helpers import BROWSER, token_of
from tests.web_fixtures import BOT, web_settings

SIGNING_SECRET = "slack-signing-secret"
AGENT, ADMIN, OUTSIDER = "U0AGENT", "U0ADMIN", "U0OUTSIDER"
CHANNEL = "C0HELPDESK"
ALERTS = "C0ALERTS"


@dataclass
class Slack:
    workspace: Workspace
    driver: SlackDriver
    deps: Dependencies
    http: httpx.AsyncClient

    async def command(self, text: str, *, user: str = AGENT) -> httpx.Response:
        return await self.driver.command(text, user_id=user, channel_id=CHANNEL)

    async def answer(self, *, count: int = 1, user: str = AGENT) -> Message:
        """The latest of the bot's answers only `user` sees, once `count` have arrived."""
        await self.workspace.wait_for("response_url", count=count)
        return self.workspace.ephemeral(CHANNEL, user)[-1]

    def channel(self) -> list[Message]:
        return self.workspace.messages(CHANNEL)


@pytest.fixture
async def slack(
    engine: AsyncEngine,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> AsyncIterator[Slack]:
    workspace = Workspace()
    for user, name in ((AGENT, "Ada Agent"), (ADMIN, "Sam Admin"), (OUTSIDER, "Olly Outsider")):
        workspace.add_user(user, name)
    workspace.add_channel(ALERTS, "xero-alerts")
    async with serve(create_fake_slack(workspace), free_socket()) as url:
        workspace.base_url = url
        client = AsyncWebClient(token=workspace.bot_token, base_url=f"{url}/api/")
        settings = dataclasses.replace(
            web_settings(),
            slack_bot_token=workspace.bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"{url}/api/",
            helpdesk_users=frozenset({AGENT}),
            admin_users=frozenset({ADMIN}),
            slack_alerts_channel=ALERTS,
        )
        deps = Dependencies(
            sessions=session_factory(engine),
            vault=Vault([ENCRYPTION_KEY]),
            cloudpos=cloudpos_client(cloudpos),
            xero=xero_client(settings, transport=emulator.transport(), sleep=_no_sleep),
            public_base_url=BOT,
            notifier=SlackNotifier(client, alerts_channel=ALERTS),
            clock=clock,
        )
        app = create_app(settings, deps=deps, slack_client=client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BOT) as http:

            async def send(request: SignedRequest) -> httpx.Response:
                return await http.post(
                    "/slack/events", content=request.body, headers=request.headers
                )

            yield Slack(workspace, SlackDriver(workspace, SIGNING_SECRET, send), deps, http)


async def consent_through_xero(
    deps: Dependencies, emulator: XeroEmulator, token: str, tenants: list[str]
) -> None:
    """The customer's side, short: Connect, allow `tenants` at the emulator, come back."""
    url = await domain.consent.start(deps, token=token, browser_id=BROWSER)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    back = emulator.authorise(
        user_id="xero-user-1",
        tenant_ids=tenants,
        redirect_uri=query["redirect_uri"],
        state=query["state"],
        code_challenge=query["code_challenge"],
        code_challenge_method=query["code_challenge_method"],
    )
    code = parse_qs(urlsplit(back).query)["code"][0]
    attempt = await domain.consent.verify_callback(deps, state=query["state"], browser_id=BROWSER)
    await domain.consent.complete(deps, attempt=attempt, code=code)


async def issued_link(slack: Slack, command: str) -> str:
    await slack.command(command)
    private = await slack.answer()
    return token_of(next(word for word in private.text.split() if "/connect/" in word))


def with_revoke_button(message: Message, *, consent_request_id: int) -> Message:
    """`message` as a forger would send it: with the admin-only Revoke button added."""
    revoke = {
        "type": "button",
        "action_id": ids.REVOKE_LINK,
        "value": ids.encode(r=consent_request_id),
        "text": {"type": "plain_text", "text": "Revoke link"},
    }
    blocks = [*message.blocks, {"type": "actions", "elements": [revoke]}]
    return dataclasses.replace(message, blocks=blocks)


async def connected_through_xero(
    deps: Dependencies, emulator: XeroEmulator, token: str, tenant_id: str
) -> None:
    """The customer consents to one organisation and connects every store of the link to it."""
    await consent_through_xero(deps, emulator, token, [tenant_id])
    view = await domain.consent.open(deps, token=token)
    (organisation,) = view.organisations
    await domain.choice.confirm(
        deps,
        token=token,
        choices={store.code: organisation.connection_id for store in view.stores},
        actor="customer",
    )


async def published_home(slack: Slack, user: str, *, count: int = 1) -> HomeView:
    """`user`'s App Home once the bot has published Home views `count` times in all (the
    bot publishes after acknowledging `app_home_opened`)."""
    await slack.workspace.wait_for("views.publish", count=count)
    home = slack.workspace.home_of(user)
    assert home is not None, [str(call) for call in slack.workspace.calls_to("views.publish")]
    return home
