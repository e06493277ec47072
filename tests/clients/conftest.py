"""The Cloud POS client tests' fixtures: a client on a fake clock, and respx for its API.
(The Xero client tests have their own, in xero/.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from bot.clients.cloudpos import CloudPosClient
from tests.clients.cloudpos_fixtures import BASE_URL, FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def client(fake_time: FakeTime) -> AsyncIterator[CloudPosClient]:
    async with CloudPosClient(
        base_url=BASE_URL, sleep=fake_time.sleep, clock=fake_time.clock
    ) as cloudpos:
        yield cloudpos


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router
