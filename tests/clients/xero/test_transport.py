"""The injected transport (an emulator's, in the sandbox) carries every call and is closed once."""

from __future__ import annotations

import httpx

from bot.clients.xero import XeroClient
from tests.clients.xero.xero_fixtures import (
    API_URL,
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    OLD_REFRESH,
    REDIRECT_URI,
    REVOKE_URL,
    SCOPES,
    TENANT_A,
    TOKEN_URL,
    FakeSleep,
    organisation_json,
    token_json,
)

# --- transport ------------------------------------------------------------------------------


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == "/connect/token":
            return httpx.Response(200, json=token_json())
        return httpx.Response(200, json=organisation_json())

    async def aclose(self) -> None:
        self.closed = True


async def test_injected_transport_is_shared_and_closed_once(sleep: FakeSleep) -> None:
    transport = RecordingTransport()
    xero = XeroClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        revoke_url=REVOKE_URL,
        api_url=API_URL,
        transport=transport,
        sleep=sleep,
    )
    tokens = await xero.refresh(refresh_token=OLD_REFRESH)
    assert not transport.closed
    await xero.organisation(access_token=tokens.access_token, tenant_id=TENANT_A)
    assert transport.paths == ["/connect/token", "/api.xro/2.0/Organisation"]
    await xero.aclose()
    assert transport.closed
