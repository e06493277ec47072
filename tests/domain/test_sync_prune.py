"""Old store events are deleted daily; the newest always stays, so ids go on increasing."""

from __future__ import annotations

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
