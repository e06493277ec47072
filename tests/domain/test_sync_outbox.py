"""The outbox: every change the sync service must hear of writes its event in the change's own
transaction (none when nothing changed or the change failed), and the feed gives each
committed event once, in order, even while events are being written."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot import domain
from bot.domain import Dependencies
from bot.domain._outbox import StoreEvent, record
from bot.domain._session import transaction as domain_transaction
from bot.domain.errors import Conflict, DomainError, XeroGrantRevoked
from bot.domain.posting_values import PostingChoices
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import EmulatedOrganisation, XeroEmulator
from storage.engine import transaction
from storage.models import Store, SyncEvent
from tests.conftest import Clock
from tests.domain.posting_helpers import complete_choices, connected, ready_store, set_up
from tests.domain_helpers import AGENT, CUSTOMER, consented, option_id

pytestmark = pytest.mark.asyncio


@dataclass(frozen=True)
class Written:
    kind: str
    group: str
    code: str
    data: dict[str, Any]
    occurred_at: datetime


async def events(deps: Dependencies) -> list[Written]:
    """Every event row, in the order written."""
    async with transaction(deps.sessions, read_only=True) as session:
        rows = await session.scalars(select(SyncEvent).order_by(SyncEvent.id))
        return [
            Written(row.kind, row.cloudpos_group, row.store_code, row.data, row.occurred_at)
            for row in rows
        ]


async def kinds(deps: Dependencies) -> list[tuple[str, str]]:
    return [(event.kind, event.code) for event in await events(deps)]


async def test_marking_ready_writes_store_ready_once(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    store = await connected(deps, cloudpos, emulator)
    await set_up(deps, emulator, store, "S001")
    assert await kinds(deps) == [("store.setup_changed", "S001")]
    clock.advance(minutes=3)

    await domain.posting.mark_ready(
        deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
    )
    await domain.posting.mark_ready(
        deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
    )

    *_, ready = await events(deps)
    assert (ready.kind, ready.group, ready.code) == ("store.ready", "acme", "S001")
    assert ready.data == {"tenant_id": store.organisation.tenant_id}
    assert ready.occurred_at == clock()
    assert await kinds(deps) == [("store.setup_changed", "S001"), ("store.ready", "S001")]


async def test_a_refused_mark_ready_writes_nothing(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    with pytest.raises(Conflict):
        await domain.posting.mark_ready(
            deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
        )
    full = complete_choices(deps, emulator, store.organisation.tenant_id)
    part = PostingChoices(sales_account_id=full.sales_account_id, tax_type=full.tax_type)
    await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=part, actor=AGENT
    )
    with pytest.raises(Conflict):
        await domain.posting.mark_ready(
            deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
        )
    assert await kinds(deps) == [("store.setup_changed", "S001")]


async def test_saving_writes_setup_changed_only_when_something_changed(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    choices = await set_up(deps, emulator, store, "S001")
    await set_up(deps, emulator, store, "S001")
    assert await kinds(deps) == [("store.setup_changed", "S001")]

    payments = {**choices.payments, "T4": choices.payments["T1"]}
    changed = dataclasses.replace(choices, payments=payments)
    await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=changed, actor=AGENT
    )
    assert await kinds(deps) == [("store.setup_changed", "S001")] * 2
    [*_, last] = await events(deps)
    assert last.data == {"tenant_id": store.organisation.tenant_id}


async def test_a_save_xero_refuses_writes_nothing(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    choices = complete_choices(deps, emulator, store.organisation.tenant_id)
    emulator.fail_next("accounts", status=503, times=None)
    with pytest.raises(DomainError):
        await domain.posting.save(
            deps, customer_id=store.customer_id, store_code="S001", choices=choices, actor=AGENT
        )
    assert await events(deps) == []


async def test_disconnecting_writes_disconnected_for_each_store_and_not_ready_for_the_ready_one(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    before = len(await events(deps))

    await domain.organisations.disconnect(
        deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id, actor=AGENT
    )

    written = (await events(deps))[before:]
    assert sorted((e.kind, e.code) for e in written) == [
        ("store.disconnected", "S001"),
        ("store.disconnected", "S002"),
        ("store.not_ready", "S001"),
    ]
    [not_ready] = [e for e in written if e.kind == "store.not_ready"]
    assert not_ready.data == {"reason": "disconnected from Xero"}


async def test_a_disconnection_xero_does_not_confirm_writes_nothing(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    before = await events(deps)
    emulator.fail_next("delete", status=503, times=None)

    with pytest.raises(DomainError):
        await domain.organisations.disconnect(
            deps,
            customer_id=store.customer_id,
            tenant_id=store.organisation.tenant_id,
            actor=AGENT,
        )
    assert await events(deps) == before


async def test_invalid_grant_writes_needs_reconnect_with_the_reason(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    before = len(await events(deps))
    emulator.revoke_user("xero-user-1")
    clock.advance(seconds=1)
    async with transaction(deps.sessions, read_only=True) as session:
        grant_id = await session.scalar(select(domain.grants.XeroGrant.id))
    assert grant_id is not None

    with pytest.raises(XeroGrantRevoked):
        await domain.grants.fresh_access_token(deps, grant_id=grant_id, refreshed_before=clock())
    with pytest.raises(XeroGrantRevoked):
        await domain.grants.fresh_access_token(deps, grant_id=grant_id, refreshed_before=clock())

    written = (await events(deps))[before:]
    assert sorted((e.kind, e.code) for e in written) == [
        ("store.needs_reconnect", "S001"),
        ("store.needs_reconnect", "S002"),
        ("store.not_ready", "S001"),
    ]
    for event in written:
        if event.kind == "store.needs_reconnect":
            assert event.data["reason"], "says why"
    assert store.codes == ("S001", "S002")


async def test_reconnecting_after_a_disconnection_writes_reconnected_but_a_first_connection_not(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    assert await events(deps) == [], "a first connection is no event: the store is new"
    await domain.organisations.disconnect(
        deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id, actor=AGENT
    )
    before = len(await events(deps))

    customer = await domain.customers.get(deps, customer_id=store.customer_id)
    token, view = await consented(deps, emulator, customer, [store.organisation], codes=["S001"])
    await domain.choice.confirm(
        deps,
        token=token,
        choices={"S001": option_id(view, store.organisation.name)},
        actor=CUSTOMER,
    )

    assert [(e.kind, e.code) for e in (await events(deps))[before:]] == [
        ("store.reconnected", "S001")
    ]


async def moved_to_another_organisation(
    deps: Dependencies, emulator: XeroEmulator, customer_id: int
) -> EmulatedOrganisation:
    """S001 connected by its customer to a new organisation, replacing its link."""
    other = emulator.add_organisation("Other Ltd")
    customer = await domain.customers.get(deps, customer_id=customer_id)
    token, view = await consented(deps, emulator, customer, [other], codes=["S001"])
    await domain.choice.confirm(
        deps,
        token=token,
        choices={"S001": option_id(view, "Other Ltd")},
        actor=CUSTOMER,
        replace=True,
    )
    return other


async def test_linking_to_another_organisation_writes_setup_changed_and_not_ready(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    before = len(await events(deps))
    other = await moved_to_another_organisation(deps, emulator, store.customer_id)

    written = (await events(deps))[before:]
    assert sorted((e.kind, e.code) for e in written) == [
        ("store.not_ready", "S001"),
        ("store.reconnected", "S001"),
        ("store.setup_changed", "S001"),
    ]
    [cleared] = [e for e in written if e.kind == "store.setup_changed"]
    assert cleared.data == {"reason": "cleared: connected to another Xero organisation"}
    [moved] = [e for e in written if e.kind == "store.reconnected"]
    assert moved.data == {"tenant_id": other.tenant_id}


async def test_a_store_moved_to_another_organisation_without_a_set_up_says_where(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    other = await moved_to_another_organisation(deps, emulator, store.customer_id)

    assert [(e.kind, e.code, e.data) for e in await events(deps)] == [
        ("store.reconnected", "S001", {"tenant_id": other.tenant_id})
    ]


async def test_an_event_is_written_only_if_its_transaction_commits(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(deps, cloudpos, emulator)

    class Boom(Exception):
        pass

    async def fails_after_recording() -> None:
        async with domain_transaction(deps) as session:
            store = await session.scalar(select(Store).where(Store.code == "S001"))
            assert store is not None
            record(deps, store, StoreEvent.READY, note="x" * 400)
            await session.flush()
            raise Boom

    with pytest.raises(Boom):
        await fails_after_recording()
    assert await events(deps) == []

    async with domain_transaction(deps) as session:
        store = await session.scalar(select(Store).where(Store.code == "S001"))
        assert store is not None
        record(deps, store, StoreEvent.READY, note="x" * 400, count=3)
    [written] = await events(deps)
    assert written.group == "acme"
    assert written.data == {"note": "x" * 300, "count": 3}


# --- the feed -------------------------------------------------------------------------------


async def pull_all(deps: Dependencies, *, after: int = 0, limit: int) -> list[dict[str, Any]]:
    pulled: list[dict[str, Any]] = []
    while True:
        page = await domain.sync_events.feed(deps, after=after, limit=limit)
        assert len(page.events) <= limit
        if not page.events:
            assert page.last_id == after
            return pulled
        assert page.last_id == page.events[-1]["id"]
        pulled += page.events
        after = page.last_id


async def test_the_feed_gives_events_in_order_once_a_page_at_a_time(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    await set_up(deps, emulator, store, "S002")
    await domain.organisations.disconnect(
        deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id, actor=AGENT
    )
    written = await events(deps)
    assert len(written) == 6

    everything = await pull_all(deps, limit=1000)
    assert [e["id"] for e in everything] == [1, 2, 3, 4, 5, 6]
    assert [(e["type"], e["store"]["store_code"]) for e in everything] == [
        (w.kind, w.code) for w in written
    ]
    assert all(e["store"]["group"] == "acme" for e in everything)
    for limit in (1, 2, 4, 5):
        assert await pull_all(deps, limit=limit) == everything, limit
    assert await pull_all(deps, after=4, limit=10) == everything[4:]
    assert await pull_all(deps, after=6, limit=10) == []
    page = await domain.sync_events.feed(deps, after=99, limit=10)
    assert (page.events, page.last_id) == ((), 99)


async def test_the_feed_refuses_bad_arguments(deps: Dependencies) -> None:
    for after, limit, field in ((-1, 10, "after"), (0, 0, "limit"), (0, 1001, "limit")):
        with pytest.raises(DomainError) as raised:
            await domain.sync_events.feed(deps, after=after, limit=limit)
        assert raised.value.field == field


STORES = 8


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_readers_racing_writers_get_every_event_exactly_once_in_order(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator, stores=STORES)
    for code in store.codes:
        await set_up(deps, emulator, store, code)
    done = asyncio.Event()

    async def reader(limit: int) -> list[dict[str, Any]]:
        pulled: list[dict[str, Any]] = []
        after = 0
        while True:
            finished = done.is_set()
            page = await domain.sync_events.feed(deps, after=after, limit=limit)
            pulled.extend(page.events)
            after = page.last_id
            if finished and not page.events:
                return pulled
            await asyncio.sleep(0)

    async def writers() -> None:
        await asyncio.gather(
            *(
                domain.posting.mark_ready(
                    deps, customer_id=store.customer_id, store_code=code, actor=AGENT
                )
                for code in store.codes
            ),
            *(
                domain.posting.mark_ready(
                    deps, customer_id=store.customer_id, store_code=code, actor=f"slack:U{n}"
                )
                for n, code in enumerate(store.codes)
            ),
        )
        done.set()

    _, *pulled_by = await asyncio.gather(writers(), *(reader(limit) for limit in (1, 3, 50)))

    async with transaction(deps.sessions, read_only=True) as session:
        rows = list(await session.scalars(select(SyncEvent)))
    total = 2 * STORES
    assert len(rows) == total, "a setup_changed and one ready per store"
    assert sorted(row.position or 0 for row in rows) == list(range(1, total + 1))
    for pulled in pulled_by:
        ids = [event["id"] for event in pulled]
        assert ids == list(range(1, total + 1)), "each event once, in order"
        ready = [e["store"]["store_code"] for e in pulled if e["type"] == "store.ready"]
        assert sorted(ready) == sorted(store.codes)
