"""Summaries grouped by organisation, and disconnecting a group: all of it or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import Ambiguous, ExternalServiceError, NotFound
from bot.domain.results import CustomerView
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import session_factory, transaction
from storage.models import (
    ConnectionStatus,
    Customer,
    GrantStatus,
    Store,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)
from tests.conftest import Clock
from tests.domain_helpers import AGENT, CUSTOMER, consented, option_id, registered, snapshot


async def connect(
    deps: Dependencies,
    emulator: XeroEmulator,
    customer: CustomerView,
    plan: dict[str, list[str]],
    *,
    user: str = "xero-user-1",
) -> None:
    """Connect stores to organisations by name in one consent: {"Org": ["S001", ...]}."""
    tenants = [emulator.add_organisation(name) for name in plan]
    codes = [code for codes in plan.values() for code in codes]
    token, view = await consented(deps, emulator, customer, tenants, codes=codes, user=user)
    await domain.choice.confirm(
        deps,
        token=token,
        choices={code: option_id(view, name) for name, codes in plan.items() for code in codes},
        actor=CUSTOMER,
    )


async def test_summary_groups_stores_by_organisation(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos, stores=4)
    await connect(deps, emulator, customer, {"Zeta Ltd": ["S001"], "Alpha Ltd": ["S002", "S003"]})

    summary = await domain.organisations.summary(deps, customer_id=customer.id)

    assert [(g.tenant_name, [s.code for s in g.stores]) for g in summary.groups] == [
        ("Alpha Ltd", ["S002", "S003"]),
        ("Zeta Ltd", ["S001"]),
    ]
    alpha = summary.groups[0]
    assert (alpha.plan_label, alpha.eligible, alpha.grant_status) == (
        "Standard", True, GrantStatus.ACTIVE,
    )  # fmt: skip
    assert alpha.connected_by == "xero-user-1@example.com"
    assert [(s.code, s.status) for s in summary.not_connected] == [
        ("S004", StoreStatus.NOT_CONNECTED)
    ]


async def test_an_unknown_plan_is_flagged_not_fatal(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    future = emulator.add_organisation("Future Org", plan_class="HYPER_PLAN_2030")
    token, view = await consented(deps, emulator, customer, [future], codes=["S001"])
    await domain.choice.confirm(
        deps, token=token, choices={"S001": option_id(view, "Future Org")}, actor=CUSTOMER
    )
    group = (await domain.organisations.summary(deps, customer_id=customer.id)).groups[0]
    assert (group.plan_label, group.plan_recognised, group.eligible) == (
        "Hyper Plan 2030", False, True,
    )  # fmt: skip


async def test_find_an_organisation_group_by_name(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    await connect(deps, emulator, customer, {"Acme North": ["S001"], "Acme South": ["S002"]})
    group = await domain.organisations.find_group(deps, customer_id=customer.id, name="acme north")
    assert group.tenant_name == "Acme North"
    with pytest.raises(Ambiguous, match="2 organisations match 'acme'"):
        await domain.organisations.find_group(deps, customer_id=customer.id, name="acme")
    with pytest.raises(NotFound, match="Connected: Acme North, Acme South"):
        await domain.organisations.find_group(deps, customer_id=customer.id, name="Globex")


async def test_disconnect_removes_the_connection_at_xero_and_every_store_of_the_group(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    await connect(deps, emulator, customer, {"Org": ["S001", "S002"]})
    group = (await domain.organisations.summary(deps, customer_id=customer.id)).groups[0]
    connection_ids = emulator.connections_of("xero-user-1")

    result = await domain.organisations.disconnect(
        deps, customer_id=customer.id, tenant_id=group.tenant_id, actor=AGENT
    )

    assert (result.tenant_name, result.store_codes) == ("Org", ("S001", "S002"))
    assert result.removed_at_xero
    assert result.token_revoked  # the grant had no other organisation
    assert emulator.connections_of("xero-user-1") == []
    assert len(connection_ids) == 1
    assert len(emulator.revocations) == 1
    summary = await domain.organisations.summary(deps, customer_id=customer.id)
    assert summary.groups == ()
    assert [(s.code, s.status) for s in summary.not_connected] == [
        ("S001", StoreStatus.DISCONNECTED),
        ("S002", StoreStatus.DISCONNECTED),
        ("S003", StoreStatus.NOT_CONNECTED),
    ]
    async with transaction(session_factory(engine)) as session:
        grant = await session.scalar(select(XeroGrant))
    assert grant is not None
    assert grant.status == GrantStatus.REVOKED
    latest = (await domain.audit.history(deps, customer_id=customer.id))[0]
    assert (latest.actor, latest.action) == (AGENT, "organisation.disconnected")


async def test_the_token_stays_when_the_grant_has_another_organisation(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    await connect(deps, emulator, customer, {"One": ["S001"], "Two": ["S002"]})
    one = await domain.organisations.find_group(deps, customer_id=customer.id, name="One")

    result = await domain.organisations.disconnect(
        deps, customer_id=customer.id, tenant_id=one.tenant_id, actor=AGENT
    )

    assert result.removed_at_xero
    assert not result.token_revoked
    assert emulator.revocations == []
    assert len(emulator.connections_of("xero-user-1")) == 1
    assert [
        g.tenant_name
        for g in (await domain.organisations.summary(deps, customer_id=customer.id)).groups
    ] == ["Two"]


async def test_disconnecting_an_organisation_with_no_stores_is_refused(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    acme = await registered(deps, cloudpos, name="Acme")
    other = await registered(deps, cloudpos, name="Other")
    await connect(deps, emulator, acme, {"Acme Org": ["S001"]})
    group = (await domain.organisations.summary(deps, customer_id=acme.id)).groups[0]
    before = await snapshot(engine)

    with pytest.raises(NotFound, match="no stores of Other connected"):
        await domain.organisations.disconnect(
            deps, customer_id=other.id, tenant_id=group.tenant_id, actor=AGENT
        )
    with pytest.raises(NotFound, match="nothing to disconnect"):
        await domain.organisations.disconnect(
            deps, customer_id=acme.id, tenant_id="no-such-tenant", actor=AGENT
        )
    assert await snapshot(engine) == before
    assert len(emulator.connections_of("xero-user-1")) == 1


async def test_xero_failing_mid_disconnect_leaves_the_group_connected(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    await connect(deps, emulator, customer, {"Org": ["S001", "S002"]})
    group = (await domain.organisations.summary(deps, customer_id=customer.id)).groups[0]
    emulator.fail_next("delete", status=503, times=None)
    before = await snapshot(engine)

    with pytest.raises(ExternalServiceError, match="Org is still connected") as raised:
        await domain.organisations.disconnect(
            deps, customer_id=customer.id, tenant_id=group.tenant_id, actor=AGENT
        )

    assert raised.value.retryable
    after = await snapshot(engine)
    assert after["audit_events"][: len(before["audit_events"])] == before["audit_events"]
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    assert (await domain.audit.history(deps, customer_id=customer.id))[0].action == (
        "organisation.disconnect_failed"
    )
    assert emulator.revocations == []
    summary = await domain.organisations.summary(deps, customer_id=customer.id)
    assert [s.code for s in summary.groups[0].stores] == ["S001", "S002"]


async def test_a_revoked_grant_is_disconnected_here_without_calling_xero(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    customer = await registered(deps, cloudpos)
    await connect(deps, emulator, customer, {"Org": ["S001"]})
    group = (await domain.organisations.summary(deps, customer_id=customer.id)).groups[0]
    emulator.revoke_user("xero-user-1")
    clock.advance(hours=1)  # the access token is stale, so a refresh is attempted

    result = await domain.organisations.disconnect(
        deps, customer_id=customer.id, tenant_id=group.tenant_id, actor=AGENT
    )

    assert not result.removed_at_xero
    assert not result.token_revoked
    assert (await domain.organisations.summary(deps, customer_id=customer.id)).groups == ()


async def test_summary_uses_a_fixed_number_of_statements(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    """2,000 stores over 100 organisations: no statement per store or per organisation."""
    async with transaction(session_factory(engine)) as session:
        customer = Customer(
            name="Big", name_key="big", cloudpos_group="big", licence="ProPlus",
            api_key_encrypted="x",
        )  # fmt: skip
        stores = [
            Store(code=f"S{n:04}", name=f"Store {n}", status=StoreStatus.CONNECTED)
            for n in range(2000)
        ]
        customer.stores = stores
        grant = XeroGrant(
            xero_user_id="u", access_token_encrypted="a", refresh_token_encrypted="r",
            access_token_expires_at=deps.clock(), status=GrantStatus.ACTIVE,
        )  # fmt: skip
        organisations = [
            XeroConnection(
                grant=grant, xero_connection_id=f"c{n}", tenant_id=f"t{n}",
                tenant_name=f"Org {n:03}", plan_class="STANDARD", auth_event_id="e",
                status=ConnectionStatus.ACTIVE,
            )
            for n in range(100)
        ]  # fmt: skip
        session.add_all([customer, grant, *organisations])
        session.add_all(
            StoreLink(store=store, connection=organisations[n % 100], linked_by="a")
            for n, store in enumerate(stores)
        )

    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        summary = await domain.organisations.summary(deps, customer_id=customer.id)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)

    assert len(summary.groups) == 100
    assert sum(len(group.stores) for group in summary.groups) == 2000
    assert summary.groups[0].tenant_name == "Org 000"
    assert len(statements) == 4, statements


async def test_a_connection_shared_with_another_customer_stays_at_xero(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    """One Xero user connected one organisation for two customers' stores."""
    acme = await registered(deps, cloudpos, name="Acme")
    other = await registered(deps, cloudpos, name="Other")
    org = emulator.add_organisation("Shared Ltd")
    for customer in (acme, other):
        token, view = await consented(deps, emulator, customer, [org], codes=["S001"])
        await domain.choice.confirm(
            deps, token=token, choices={"S001": option_id(view, "Shared Ltd")}, actor=CUSTOMER
        )
    group = (await domain.organisations.summary(deps, customer_id=acme.id)).groups[0]

    result = await domain.organisations.disconnect(
        deps, customer_id=acme.id, tenant_id=group.tenant_id, actor=AGENT
    )

    assert (result.store_codes, result.removed_at_xero, result.token_revoked) == (
        ("S001",), False, False,
    )  # fmt: skip
    assert result.kept_for_other_customers
    assert (await domain.organisations.summary(deps, customer_id=acme.id)).groups == ()
    assert [
        g.tenant_name
        for g in (await domain.organisations.summary(deps, customer_id=other.id)).groups
    ] == ["Shared Ltd"]
    assert len(emulator.connections_of("xero-user-1")) == 1
    assert emulator.revocations == []


async def test_a_failed_revoke_is_audited_and_retried_by_keep_alive(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    await connect(deps, emulator, customer, {"Org": ["S001"]})
    group = (await domain.organisations.summary(deps, customer_id=customer.id)).groups[0]
    emulator.fail_next("revoke", status=503, times=None)

    result = await domain.organisations.disconnect(
        deps, customer_id=customer.id, tenant_id=group.tenant_id, actor=AGENT
    )

    assert result.removed_at_xero
    assert not result.token_revoked
    actions = [entry.action for entry in await domain.audit.history(deps, customer_id=customer.id)]
    assert actions[:2] == ["organisation.disconnected", "grant.revoke_failed"]

    emulator.clear_faults()
    report = await domain.grants.keep_alive(deps, unused_for=timedelta(days=30))
    assert (report.revoked, report.not_revoked, report.refreshed) == (1, 0, 0)
    async with transaction(deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
    assert grant is not None
    assert grant.status == GrantStatus.REVOKED


async def test_one_organisation_reached_by_two_xero_users_is_one_group(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Acme Ltd")
    for user, code in (("xero-user-1", "S001"), ("xero-user-2", "S002")):
        token, view = await consented(deps, emulator, customer, [org], codes=[code], user=user)
        await domain.choice.confirm(
            deps, token=token, choices={code: option_id(view, "Acme Ltd")}, actor=CUSTOMER
        )

    (group,) = (await domain.organisations.summary(deps, customer_id=customer.id)).groups
    assert [s.code for s in group.stores] == ["S001", "S002"]
    assert "xero-user-1" in group.connected_by
    assert "xero-user-2" in group.connected_by
    found = await domain.organisations.find_group(deps, customer_id=customer.id, name="acme ltd")
    assert found == group

    result = await domain.organisations.disconnect(
        deps, customer_id=customer.id, tenant_id=group.tenant_id, actor=AGENT
    )

    assert result.store_codes == ("S001", "S002")
    assert result.removed_at_xero
    assert emulator.connections_of("xero-user-1") == []
    assert emulator.connections_of("xero-user-2") == []
    assert (await domain.organisations.summary(deps, customer_id=customer.id)).groups == ()
