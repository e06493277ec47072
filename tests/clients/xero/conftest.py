"""Fixtures of the Xero client tests: a client with a fake sleep, and Xero mocked by respx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx

from bot.clients.xero import XeroClient
from tests.clients.xero.xero_fixtures import (
    API_URL,
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    REVOKE_URL,
    SCOPES,
    TOKEN_URL,
    FakeSleep,
)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def client(sleep: FakeSleep) -> AsyncIterator[XeroClient]:
    async with XeroClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        revoke_url=REVOKE_URL,
        api_url=API_URL,
        sleep=sleep,
    ) as xero:
        yield xero


@pytest.fixture
def xero_api() -> AsyncIterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router
