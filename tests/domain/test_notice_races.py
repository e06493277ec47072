"""Alerts and reminders raced by several replicas at once, on SQLite and PostgreSQL: each
is sent once. Each worker has its own engine, as a replica would; the notifier records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot import domain, scheduler
from bot.domain import Dependencies
from bot.domain.notify import ConsentEvent, Reminder, StoresAlert
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory
from tests.conftest import Clock
from tests.domain_helpers import AGENT, connected_organisation, registered

RACERS = 5


class Recording:
    """A notifier that keeps what it was told, taking a moment as Slack would."""

    def __init__(self) -> None:
        self.alerts: list[StoresAlert] = []
        self.reminders: list[Reminder] = []

    async def consent_changed(self, event: ConsentEvent) -> str | None:
        return None

    async def stores_alert(self, alert: StoresAlert) -> str | None:
        await asyncio.sleep(0.01)
        self.alerts.append(alert)
        return alert.report or f"C0ALERTS/{len(self.alerts)}"

    async def link_reminder(self, reminder: Reminder) -> None:
        await asyncio.sleep(0.01)
        self.reminders.append(reminder)


@pytest.fixture
async def replicas(database_url: str, deps: Dependencies) -> AsyncIterator[list[Dependencies]]:
    """Three replicas of `deps` (already migrated), each on its own engine, one notifier."""
    engines = [create_engine(database_url) for _ in range(3)]
    notifier = Recording()
    try:
        yield [
            replace(deps, sessions=session_factory(engine), notifier=notifier, grant_locks={})
            for engine in engines
        ]
    finally:
        for engine in engines:
            await engine.dispose()


def recorded(replicas: list[Dependencies]) -> Recording:
    notifier = replicas[0].notifier
    assert isinstance(notifier, Recording)
    return notifier


async def test_a_reminder_raced_by_every_replica_is_sent_once(
    replicas: list[Dependencies], cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    customer = await registered(replicas[0], cloudpos, name="Acme", stores=2)
    await domain.links.issue(replicas[0], customer_id=customer.id, store_codes=None, actor=AGENT)
    clock.advance(hours=25)

    reports = await asyncio.gather(
        *(
            domain.reminders.send_due(deps, after=timedelta(hours=24))
            for deps in replicas
            for _ in range(RACERS)
        )
    )

    assert sum(report.waiting for report in reports) == 1
    [reminder] = recorded(replicas).reminders
    assert reminder.link.consent_request_id == 1
    assert reminder.link.store_codes == ("S001", "S002")


async def test_the_alerts_job_raced_by_every_replica_raises_one_alert(
    replicas: list[Dependencies], cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    org = await connected_organisation(replicas[0], cloudpos, emulator)
    emulator.disconnect_organisation(org.tenant_id)
    await domain.health.check_connections(replicas[0])

    await asyncio.gather(
        *(
            scheduler.run_now(deps, scheduler.alerts_job())
            for deps in replicas
            for _ in range(RACERS)
        )
    )

    [alert] = recorded(replicas).alerts
    assert alert.attention is not None
    assert [store.code for store in alert.attention.stores] == ["S001", "S002"]
    assert await domain.alerts.report(replicas[1]) == domain.alerts.AlertReport()


async def test_a_plan_that_cannot_be_integrated_alerts_without_a_reconnect_and_clears(
    replicas: list[Dependencies], cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    deps = replicas[0]
    org = await connected_organisation(deps, cloudpos, emulator, stores=1)
    emulator.change_plan(org.tenant_id, "STARTER")
    await domain.health.check_connections(deps)
    assert await domain.alerts.report(deps) == domain.alerts.AlertReport(raised=1)
    assert await domain.alerts.reconnect_codes(deps, customer_id=1) == []

    emulator.change_plan(org.tenant_id, "STANDARD")
    clock.advance(hours=25)
    await domain.health.check_connections(deps)
    assert await domain.alerts.report(deps) == domain.alerts.AlertReport(resolved=1)
    [raised, resolved] = recorded(replicas).alerts
    assert raised.attention is not None
    assert raised.attention.stores[0].reason.endswith("posting will fail.")
    assert resolved.resolved
    assert resolved.report == "C0ALERTS/1"
    assert resolved.fixed_by is not None
    assert (resolved.fixed_by.actor, resolved.fixed_by.action) == ("system", "plan.cleared")
