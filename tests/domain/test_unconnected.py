"""The choice rules of issue 8 item 2 in the domain, against the Xero emulator."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import StoresLeftUnconnected
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.domain_helpers import AGENT, CUSTOMER, consented, option_id, registered, snapshot


async def test_a_customer_must_name_the_stores_left_and_an_agent_chooses_store_by_store(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org", plan_class="STANDARD")
    token, view = await consented(deps, emulator, customer, [org], codes=["S001", "S002"])
    before = await snapshot(engine)

    with pytest.raises(StoresLeftUnconnected, match=r"1 of 2 stores would not be connected: "
                       r"acme store 2 \(S002\)") as refused:  # fmt: skip
        await domain.choice.confirm(deps,
            token=token, choices={"S001": option_id(view, "Org")}, actor=CUSTOMER,
            leave_unconnected=["S003"],
        )  # fmt: skip
    assert [store.code for store in refused.value.stores] == ["S002"]
    assert await snapshot(engine) == before

    result = await domain.choice.confirm(
        deps,
        consent_request_id=view.consent_request_id,
        choices={"S001": option_id(view, "Org")},
        actor=AGENT,
    )
    assert result.linked == (("S001", "Org"),)
    completed = next(
        e for e in await domain.audit.history(deps, customer_id=customer.id)
        if e.action == "consent.completed"
    )  # fmt: skip
    assert completed.detail["left_unconnected"] == ["S002"]


async def test_unused_organisations_of_the_consent_are_deleted_at_xero(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    customer = await registered(deps, cloudpos)
    used, starter = (
        emulator.add_organisation("Used", plan_class="STANDARD"),
        emulator.add_organisation("Starter", plan_class="STARTER"),
    )
    token, view = await consented(deps, emulator, customer, [used, starter], codes=["S001"])
    emulator.fail_next("delete", status=500, times=None)

    await domain.choice.confirm(
        deps, token=token, choices={"S001": option_id(view, "Used")}, actor=CUSTOMER
    )
    assert sorted(c.tenant_name for c in emulator.connections) == ["Starter", "Used"]

    emulator.clear_faults()
    again = await domain.choice.confirm(
        deps, token=token, choices={"S001": option_id(view, "Used")}, actor=CUSTOMER
    )
    assert again.unchanged
    assert [c.tenant_name for c in emulator.connections] == ["Used"]
    actions = [e.action for e in await domain.audit.history(deps, customer_id=customer.id)]
    assert actions[:3] == [
        "organisation.removed_unused", "organisation.remove_unused_failed", "consent.completed",
    ]  # fmt: skip
