"""What the sandbox tests share: a fake Slack workspace served on loopback, and a console
over the stand-in app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fake_slack import Workspace, create_app
from tests.browser import free_socket, serve
from tests.sandbox.console_stand_in import Console, console_over_stand_in

AGENT = "U0AGENT"


@pytest.fixture
async def workspace() -> AsyncIterator[Workspace]:
    ws = Workspace()
    ws.add_user(AGENT, "agent")
    ws.add_user("U0LEAD", "lead")
    async with serve(create_app(ws), free_socket()) as url:
        ws.base_url = url
        yield ws


@pytest.fixture
def client(workspace: Workspace) -> AsyncWebClient:
    return AsyncWebClient(token=workspace.bot_token, base_url=f"{workspace.base_url}/api/")


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    """The Slack console over the stand-in app (a module may give it jobs to run)."""
    async with console_over_stand_in() as console:
        yield console
