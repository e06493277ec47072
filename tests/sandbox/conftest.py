"""What the fake Slack's tests share: a workspace served on loopback, and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fake_slack import Workspace, create_app
from tests.browser import free_socket, serve

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
