"""Ready for sync: marked only when every step holds, once however many agents press it at
once, and lost by itself when a step stops holding."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import Conflict
from bot.domain.posting_values import PostingChoices
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import transaction
from storage.models import Customer, Store, StoreSetup
from tests.conftest import Clock
from tests.domain.posting_helpers import audited, complete_choices, connected, ready_store, set_up
from tests.domain_helpers import AGENT, CUSTOMER, consented, find_customer, option_id

pytestmark = pytest.mark.asyncio


async def first_store(deps: Dependencies) -> Store:
    async with transaction(deps.sessions, read_only=True) as session:
        store = await session.scalar(select(Store).where(Store.code == "S001"))
        assert store is not None
        return store


async def test_a_store_whose_set_up_is_not_complete_cannot_be_marked_ready(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    full = complete_choices(deps, emulator, store.organisation.tenant_id)
    part = PostingChoices(sales_account_id=full.sales_account_id, tax_type=full.tax_type)
    await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=part, actor=AGENT
    )
    with pytest.raises(Conflict, match=r"posting set-up is not complete \(2 of 7 done\)"):
        await domain.posting.mark_ready(
            deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
        )
    assert (await first_store(deps)).ready_at is None
    assert await audited(deps, "store.ready") == []


async def test_a_complete_store_is_marked_ready_once_however_many_press_at_once(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    await set_up(deps, emulator, store)
    results = await asyncio.gather(
        *(
            domain.posting.mark_ready(
                deps, customer_id=store.customer_id, store_code="S001", actor=f"slack:U{n}"
            )
            for n in range(8)
        )
    )
    assert all(result.ready for result in results)
    events = await audited(deps, "store.ready")
    assert len(events) == 1
    assert events[0]["organisation"] == "Acme Ltd"
    marked = await first_store(deps)
    assert marked.ready_at is not None
    assert marked.ready_by is not None
    card = await find_customer(deps, query="Acme")
    checklists = {s.code: s.checklist for s in card.stores}
    assert checklists["S001"] is not None
    assert checklists["S001"].ready
    assert checklists["S002"] is not None
    assert not checklists["S002"].ready


async def test_a_licence_that_is_not_pro_plus_blocks_ready(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    await set_up(deps, emulator, store)
    async with transaction(deps.sessions) as session:
        customer = await session.get(Customer, store.customer_id)
        assert customer is not None
        customer.licence = "Pro"
    with pytest.raises(Conflict, match="licence is not Pro Plus"):
        await domain.posting.mark_ready(
            deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
        )


async def test_a_payment_type_added_in_cloud_pos_needs_its_account_first(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    await set_up(deps, emulator, store)
    tenders = cloudpos.accounts["key-Acme"].stores[0].tenders
    tenders.append(dataclasses.replace(tenders[0], id="T9", name="Store credit", type="Credit"))
    with pytest.raises(Conflict, match=r"payment types without an account \(Store credit\)"):
        await domain.posting.mark_ready(
            deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
        )


async def test_disconnecting_the_organisation_ends_ready_with_the_reason(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    await domain.organisations.disconnect(
        deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id, actor=AGENT
    )
    assert (await first_store(deps)).ready_at is None
    events = await audited(deps, "store.not_ready")
    assert [e["reason"] for e in events] == ["disconnected from Xero"]


async def test_the_connection_check_ends_ready_when_xero_archived_an_account(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    healthy = await domain.health.check_connections(deps)
    assert healthy.stores_no_longer_ready == 0
    assert (await first_store(deps)).ready_at is not None
    emulator.archive_account(store.organisation.tenant_id, "620")
    found = await domain.health.check_connections(deps)
    assert found.stores_no_longer_ready == 1
    assert (await first_store(deps)).ready_at is None
    events = await audited(deps, "store.not_ready")
    assert len(events) == 1
    assert "620 · Cash clearing is archived in Xero" in events[0]["reason"]
    assert events[0]["reason"].startswith("its posting set-up no longer holds in Acme Ltd")
    again = await domain.health.check_connections(deps)
    assert again.stores_no_longer_ready == 0
    assert len(await audited(deps, "store.not_ready")) == 1


async def test_a_plan_that_can_no_longer_be_integrated_ends_ready(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    emulator.change_plan(store.organisation.tenant_id, "STARTER")
    clock.advance(days=2)  # the plan is read once a day
    await domain.health.check_connections(deps)
    assert (await first_store(deps)).ready_at is None
    reasons = [e["reason"] for e in await audited(deps, "store.not_ready")]
    assert reasons
    assert reasons[0].startswith("Xero plan:")


async def reconnect(
    deps: Dependencies,
    emulator: XeroEmulator,
    customer_id: int,
    organisation: Any,
    *,
    replace: bool = False,
) -> None:
    customer = await domain.customers.get(deps, customer_id=customer_id)
    token, view = await consented(deps, emulator, customer, [organisation], codes=["S001"])
    await domain.choice.confirm(
        deps,
        token=token,
        choices={"S001": option_id(view, organisation.name)},
        actor=CUSTOMER,
        replace=replace,
    )


async def test_reconnecting_to_the_same_organisation_keeps_the_set_up(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    tenant = store.organisation.tenant_id
    await domain.organisations.disconnect(
        deps, customer_id=store.customer_id, tenant_id=tenant, actor=AGENT
    )
    await reconnect(deps, emulator, store.customer_id, store.organisation)
    async with transaction(deps.sessions, read_only=True) as session:
        setup = await session.get(StoreSetup, (await first_store(deps)).id)
        assert setup is not None
        assert setup.tenant_id == tenant
        assert setup.validated_at is None  # to be validated again
    form = await domain.posting.form(deps, customer_id=store.customer_id, store_code="S001")
    assert form.checklist.setup_complete
    assert not form.checklist.ready
    await domain.posting.mark_ready(
        deps, customer_id=store.customer_id, store_code="S001", actor=AGENT
    )


async def test_connecting_to_another_organisation_clears_the_set_up(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await ready_store(deps, cloudpos, emulator)
    other = emulator.add_organisation("Other Ltd")
    await reconnect(deps, emulator, store.customer_id, other, replace=True)
    async with transaction(deps.sessions, read_only=True) as session:
        assert await session.get(StoreSetup, (await first_store(deps)).id) is None
    assert (await first_store(deps)).ready_at is None
    cleared = await audited(deps, "setup.cleared")
    assert [e["store"] for e in cleared] == ["S001"]
    form = await domain.posting.form(deps, customer_id=store.customer_id, store_code="S001")
    assert form.organisation_name == "Other Ltd"
    assert form.checklist.steps_done == 0


async def test_saving_the_same_set_up_at_once_stores_one_row_and_one_change(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    choices = complete_choices(deps, emulator, store.organisation.tenant_id)
    saved = await asyncio.gather(
        *(
            domain.posting.save(
                deps,
                customer_id=store.customer_id,
                store_code="S001",
                choices=choices,
                actor=f"slack:U{n}",
            )
            for n in range(6)
        )
    )
    assert sum(result.changed for result in saved) == 1
    assert len(await audited(deps, "setup.changed")) == 1
    async with transaction(deps.sessions, read_only=True) as session:
        assert len((await session.scalars(select(StoreSetup))).all()) == 1
