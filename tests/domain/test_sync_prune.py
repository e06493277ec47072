"""Old store events are deleted daily; the newest always stays, so ids go on increasing."""

from __future__ import annotations

import pytest

from bot import domain
from bot.domain import Dependencies
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.conftest import Clock
from tests.domain.posting_helpers import ready_store, set_up
from tests.domain_helpers import AGENT


async def ids(deps: Dependencies) -> list[int]:
    page = await domain.sync_events.feed(deps, after=0, limit=1000)
    return [event["id"] for event in page.events]


async def test_events_older_than_ninety_days_go_and_numbering_goes_on(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    assert await ids(deps) == [1, 2]
    clock.advance(days=89)
    await set_up(deps, emulator, store, "S002")
    clock.advance(days=2)

    assert await domain.sync_events.prune(deps) == 2
    assert await ids(deps) == [3]
    assert await domain.sync_events.prune(deps) == 0

    clock.advance(days=200)
    assert await domain.sync_events.prune(deps) == 0, "the newest event stays"
    await domain.organisations.disconnect(
        deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id, actor=AGENT
    )
    assert await ids(deps) == [3, 4, 5, 6]
    assert await domain.sync_events.prune(deps) == 1
    assert await ids(deps) == [4, 5, 6]


async def test_a_reader_behind_what_is_kept_is_told_where_to_go_on(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    clock.advance(days=89)
    await set_up(deps, emulator, store, "S002")
    clock.advance(days=2)
    await domain.sync_events.prune(deps)  # 1 and 2 go; 3 stays

    with pytest.raises(domain.sync_events.EventsDeleted) as behind:
        await domain.sync_events.feed(deps, after=1)
    assert behind.value.last_id == 2
    assert "Read /api/v1/stores again, then follow the feed from 2." in behind.value.message
    for caught_up in (0, 2, 3):
        page = await domain.sync_events.feed(deps, after=caught_up)
        assert [event["id"] for event in page.events] == [3][: 1 if caught_up < 3 else 0]
