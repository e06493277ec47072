"""What the sync service reads of the stores, from the domain: pages by an opaque cursor,
statuses as it sees them, and why there is no token for a store that has none."""

from __future__ import annotations

import base64

import pytest

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import InvalidRequest, NotFound
from bot.domain.sync import NotConnected, SyncStatus
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.conftest import Clock
from tests.domain.posting_helpers import connected, ready_store
from tests.domain_helpers import AGENT, registered

pytestmark = pytest.mark.asyncio


def cursor_for(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def all_pages(deps: Dependencies, *, limit: int, **filters: object) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = await domain.sync.stores(deps, cursor=cursor, limit=limit, **filters)  # type: ignore[arg-type]
        seen += [f"{s.group}/{s.store_code}" for s in page.stores]
        if page.next_cursor is None:
            return seen
        assert page.stores, "a page with a next cursor is never empty"
        cursor = page.next_cursor


async def test_every_store_once_whatever_the_page_size(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(deps, cloudpos, emulator, stores=3)
    await registered(deps, cloudpos, name="Beta", stores=4)
    everything = await all_pages(deps, limit=500)
    assert len(everything) == 7
    assert len(set(everything)) == 7
    for limit in (1, 2, 3, 6, 7, 8):
        assert await all_pages(deps, limit=limit) == everything, limit


async def test_a_cursor_is_only_one_the_api_gave(deps: Dependencies) -> None:
    for cursor in (
        "!!",
        "cw",  # "s"
        cursor_for("x12"),
        cursor_for("s-1"),
        cursor_for("s1 "),
        cursor_for("s" + "9" * 30),
        cursor_for("s99999999999"),  # beyond any store id the database can hold
        "\u00e9",
    ):
        with pytest.raises(InvalidRequest) as raised:
            await domain.sync.stores(deps, cursor=cursor)
        assert raised.value.field == "cursor", cursor
    for limit in (0, -1, 501):
        with pytest.raises(InvalidRequest) as raised:
            await domain.sync.stores(deps, limit=limit)
        assert raised.value.field == "limit"
    page = await domain.sync.stores(deps, cursor=cursor_for("s2147483647"))
    assert (page.stores, page.next_cursor) == ((), None)


async def test_statuses_as_the_sync_service_sees_them(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await ready_store(deps, cloudpos, emulator)
    beta = await registered(deps, cloudpos, name="Beta", stores=2)
    await domain.links.issue(deps, customer_id=beta.id, store_codes=["S001"], actor=AGENT)

    async def named(status: SyncStatus) -> list[str]:
        return await all_pages(deps, limit=1, status=status)

    assert await named(SyncStatus.READY) == ["acme/S001"]
    assert await named(SyncStatus.CONNECTED) == ["acme/S002"]
    assert await named(SyncStatus.CONSENT_SENT) == ["beta/S001"]
    assert await named(SyncStatus.NOT_CONNECTED) == ["beta/S002"]
    assert await named(SyncStatus.NEEDS_RECONNECT) == []
    ready = await domain.sync.store(deps, group="acme", store_code="S001")
    assert ready.status == SyncStatus.READY
    assert ready.ready_at is not None
    assert ready.updated_at == ready.ready_at


async def test_no_token_for_a_store_without_an_organisation(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    store = await connected(deps, cloudpos, emulator)
    beta = await registered(deps, cloudpos, name="Beta", stores=2)
    await domain.links.issue(deps, customer_id=beta.id, store_codes=["S001"], actor=AGENT)
    await domain.organisations.disconnect(
        deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id, actor=AGENT
    )
    calls = emulator.call_count("token")

    for group, code, status in (
        ("acme", "S001", SyncStatus.DISCONNECTED),
        ("beta", "S001", SyncStatus.CONSENT_SENT),
        ("beta", "S002", SyncStatus.NOT_CONNECTED),
    ):
        with pytest.raises(NotConnected) as raised:
            await domain.sync.token(deps, group=group, store_code=code)
        assert raised.value.status == status
    with pytest.raises(NotFound, match="no store 'S009' in the Cloud POS group 'acme'"):
        await domain.sync.token(deps, group="acme", store_code="S009")
    with pytest.raises(NotFound):
        await domain.sync.store(deps, group="nobody", store_code="S001")
    assert emulator.call_count("token") == calls, "Xero is not asked for a store without one"
