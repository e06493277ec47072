"""Fixtures of the Xero emulator's tests: the world, a real `XeroClient` on it, a browser."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.clients.xero import XeroClient
from bot.domain.ports import TokenSet
from sandbox.xero_emulator import XeroEmulator
from tests.conftest import Clock
from tests.sandbox.xero_emulator.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    ROOT,
    World,
    consent,
    make_client,
)


@pytest.fixture
def world(clock: Clock) -> World:
    emulator_sleeps: list[float] = []

    async def emulator_sleep(seconds: float) -> None:
        emulator_sleeps.append(seconds)

    emulator = XeroEmulator(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock, sleep=emulator_sleep
    )
    pat = emulator.add_user(email="pat@harbour.example", name="Pat Lee")
    sam = emulator.add_user(user_id="sam-0001", email="sam@rival.example", name="Sam Roe")
    acme = emulator.add_organisation("Acme Ltd", users=[pat.user_id])
    beta = emulator.add_organisation("Beta Cafe", plan_class="PREMIUM", users=[pat.user_id])
    future = emulator.add_organisation(
        "Future Shop", plan_class="FUTURE_PLAN", is_demo_company=True, users=[pat.user_id]
    )
    rival = emulator.add_organisation("Rival Co", plan_class="GROW", users=[sam.user_id])
    return World(emulator, pat, sam, acme, beta, future, rival, [], emulator_sleeps)


@pytest.fixture
async def client(world: World) -> AsyncIterator[XeroClient]:
    async with make_client(world) as xero:
        yield xero


@pytest.fixture
async def browser(world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world.emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
        yield http


@pytest.fixture
async def acme(client: XeroClient, browser: httpx.AsyncClient) -> TokenSet:
    """Pat's tokens after connecting the app to Acme Ltd (only), with the bot's scopes."""
    return await consent(browser, client, "Acme Ltd — STANDARD")
