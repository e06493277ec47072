"""The Cloud POS emulator's tenders endpoint and page, served on loopback and read over real
HTTP, by the bot's own client where it can be and by plain requests where the client would
hide the status (401 before 404, 429's Retry-After)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from bot.clients.cloudpos import CloudPosClient
from bot.domain.errors import CloudPosKeyRejected, NotFound
from bot.domain.ports import Tender
from bot.sandbox_server import DEMO_KEY, LOWER_LICENCE_KEY, XERO_CLIENT, seed
from sandbox.cloudpos_emulator import DEFAULT_TENDERS, CloudPosEmulator, CloudPosTender
from sandbox.fake_slack import Workspace
from sandbox.xero_emulator import XeroEmulator
from tests.browser import free_socket, serve

KEY = "ck_live_EMULATED-key"
DEFAULTS = [Tender(*tender) for tender in DEFAULT_TENDERS]


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@asynccontextmanager
async def served(cloudpos: CloudPosEmulator) -> AsyncIterator[str]:
    async with serve(cloudpos.app, free_socket()) as url:
        yield url


@asynccontextmanager
async def bot_client(url: str) -> AsyncIterator[CloudPosClient]:
    async with CloudPosClient(base_url=url, min_interval=0, sleep=_no_sleep) as client:
        yield client


@pytest.fixture
def cloudpos() -> CloudPosEmulator:
    emulator = CloudPosEmulator(min_interval=0)
    emulator.add_account(
        KEY,
        group="Harbour Cafés",
        stores=[("HC01", "Harbour Quay"), ("HC02", "Old Town"), ("HC/03 x", "Pier kiosk")],
        tenders={"HC02": [("C1", "Cash", "Cash"), ("A1", "Account", "OnAccount")]},
    )
    return emulator


async def test_every_store_has_tenders_given_or_the_default(cloudpos: CloudPosEmulator) -> None:
    cloudpos.accounts[KEY].stores[0].active = False
    async with served(cloudpos) as url, bot_client(url) as client:
        defaults = await client.tenders(KEY, "HC01")
        given = await client.tenders(KEY, "HC02")
        encoded = await client.tenders(KEY, "HC/03 x")

    assert defaults == DEFAULTS
    assert [tender.name for tender in defaults] == ["Cash", "Card (EFTPOS)", "Gift card", "Voucher"]
    assert given == [Tender("C1", "Cash", "Cash"), Tender("A1", "Account", "OnAccount")]
    assert encoded == DEFAULTS


async def test_tenders_changed_in_place_are_answered(cloudpos: CloudPosEmulator) -> None:
    store = cloudpos.accounts[KEY].stores[1]
    store.tenders.append(CloudPosTender("V9", "Voucher", "Voucher"))
    store.tenders[0].name = "Cash (till)"
    async with served(cloudpos) as url, bot_client(url) as client:
        tenders = await client.tenders(KEY, "HC02")

    assert [tender.name for tender in tenders] == ["Cash (till)", "Account", "Voucher"]


async def test_unknown_store_is_404_and_the_client_says_it_is_gone(
    cloudpos: CloudPosEmulator,
) -> None:
    cloudpos.add_account("ck_other", group="Rival", stores=[("R01", "Rival Road")])
    async with served(cloudpos) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            missing = await http.get("/api/stores/NOPE/tenders", headers={"Authorization": KEY})
            other_groups = await http.get("/api/stores/R01/tenders", headers={"Authorization": KEY})
        async with bot_client(url) as client:
            with pytest.raises(NotFound) as caught:
                await client.tenders(KEY, "HC99")

    assert missing.status_code == 404
    assert missing.json() == {"message": "Store not found"}
    assert other_groups.status_code == 404
    assert "Store HC99 is not in Cloud POS any more" in caught.value.message


async def test_unknown_key_is_401_before_any_store_is_looked_up(
    cloudpos: CloudPosEmulator,
) -> None:
    async with served(cloudpos) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            known_store = await http.get("/api/stores/HC01/tenders", headers={"Authorization": "x"})
            unknown_store = await http.get("/api/stores/NOPE/tenders")
        async with bot_client(url) as client:
            with pytest.raises(CloudPosKeyRejected):
                await client.tenders("ck_unknown", "HC01")

    assert known_store.status_code == unknown_store.status_code == 401


async def test_tenders_share_the_keys_rate_limit() -> None:
    now = [100.0]
    cloudpos = CloudPosEmulator(clock=lambda: now[0])
    cloudpos.add_account(KEY, group="Harbour Cafés")
    cloudpos.add_account("ck_other", group="Rival")
    headers = {"Authorization": KEY}
    async with served(cloudpos) as url, httpx.AsyncClient(base_url=url) as http:
        stores = await http.get("/api/stores", headers=headers)
        too_soon = await http.get("/api/stores/S001/tenders", headers=headers)
        other_key = await http.get(
            "/api/stores/S001/tenders", headers={"Authorization": "ck_other"}
        )
        now[0] += 1.0
        in_time = await http.get("/api/stores/S001/tenders", headers=headers)

    assert stores.status_code == 200
    assert (too_soon.status_code, too_soon.headers["retry-after"]) == (429, "1")
    assert other_key.status_code == 200
    assert in_time.status_code == 200
    assert [tender["name"] for tender in in_time.json()] == [name for _, name, _ in DEFAULT_TENDERS]


async def test_bot_client_paces_itself_to_the_emulators_limit() -> None:
    """Both at their real one per second: the client waits its turn for each store."""
    cloudpos = CloudPosEmulator()
    cloudpos.add_account(KEY, group="Harbour Cafés", stores=2)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    async with served(cloudpos) as url, CloudPosClient(base_url=url, sleep=sleep) as client:
        stores = await client.stores(KEY)
        tenders = [await client.tenders(KEY, store.code) for store in stores]

    assert tenders == [DEFAULTS, DEFAULTS]
    # A wait before each tenders call; a 429 from network jitter would add a retry's wait.
    assert len(waits) >= 2
    assert all(0 < wait <= 1.0 for wait in waits), waits


def test_tenders_for_a_store_the_account_lacks_are_a_mistake() -> None:
    with pytest.raises(ValueError, match="HC09"):
        CloudPosEmulator().add_account(
            KEY, group="g", stores=[("HC01", "Quay")], tenders={"HC09": [("T", "Cash", "Cash")]}
        )


async def test_page_shows_each_stores_tenders(cloudpos: CloudPosEmulator) -> None:
    cloudpos.accounts[KEY].stores[2].tenders.clear()
    async with served(cloudpos) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/")

    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "HC01 Harbour Quay: Cash, Card (EFTPOS) (Card), Gift card (GiftCard), Voucher" in text
    assert "HC02 Old Town: Cash, Account (OnAccount)" in text
    assert "HC/03 x Pier kiosk: no tenders" in text


async def test_sandbox_demo_stores_have_realistic_tenders() -> None:
    cloudpos = CloudPosEmulator(min_interval=0)
    seed(
        Workspace(), XeroEmulator(client_id=XERO_CLIENT[0], client_secret=XERO_CLIENT[1]), cloudpos
    )
    async with served(cloudpos) as url, bot_client(url) as client:
        names = {
            store.name: [tender.name for tender in await client.tenders(DEMO_KEY, store.code)]
            for store in await client.stores(DEMO_KEY)
        }
        corner_shop = await client.tenders(LOWER_LICENCE_KEY, "C001")

    assert names == {
        "Acme Bikes Leeds": ["Cash", "Card", "Gift card", "Voucher"],
        "Acme Bikes York": ["Cash", "Card", "Gift card"],
        "Acme Bikes Hull": ["Cash", "Card"],
        "Acme Bikes Online": ["Card (online)", "Gift card"],
    }
    assert corner_shop == DEFAULTS
