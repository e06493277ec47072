"""The connection check finds organisations disconnected at Xero and plans that cannot be
integrated, and never marks anything broken because Xero could not be asked."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.clients.xero import XeroClient
from bot.domain import Dependencies
from bot.domain.results import ConnectionCheck
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import Endpoint, XeroEmulator
from storage.engine import create_engine, transaction
from storage.models import (
    AuditEvent,
    Customer,
    GrantStatus,
    Store,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)
from tests import conftest
from tests.conftest import Clock, make_deps
from tests.domain_helpers import AGENT, connected_organisation, expire_soon, registered

GONE = (
    "Acme Ltd was disconnected on Xero's side: send the customer a new consent link to reconnect."
)
STARTER = "Acme Ltd is on Xero Starter, which cannot be integrated: posting will fail."

StoreState = tuple[StoreStatus, str | None, datetime | None]


async def store_states(deps: Dependencies) -> dict[str, StoreState]:
    """ "{customer}/{code}" → (status, attention reason, attention since), for every store."""
    async with transaction(deps.sessions, read_only=True) as session:
        rows = await session.execute(
            select(
                Customer.name, Store.code, Store.status, Store.attention_reason,
                Store.attention_since,
            ).join(Store.customer)
        )  # fmt: skip
        return {
            f"{name}/{code}": (status, reason, since) for name, code, status, reason, since in rows
        }


async def audited(deps: Dependencies, action: str) -> list[tuple[int | None, dict[str, Any]]]:
    """(customer id, detail) of every audit event of `action`, in order."""
    async with transaction(deps.sessions, read_only=True) as session:
        rows = await session.execute(
            select(AuditEvent.customer_id, AuditEvent.detail)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
        return [(customer_id, detail) for customer_id, detail in rows]


async def grant_checks(deps: Dependencies) -> list[tuple[datetime | None, datetime | None]]:
    """(checked at, check failing since) of every grant, by id."""
    async with transaction(deps.sessions, read_only=True) as session:
        rows = await session.execute(
            select(XeroGrant.checked_at, XeroGrant.check_failing_since).order_by(XeroGrant.id)
        )
        return [(checked, failing) for checked, failing in rows]


async def connection_flags(
    deps: Dependencies,
) -> dict[str, tuple[datetime | None, datetime | None, str]]:
    """tenant name → (gone since, plan flagged since, plan class)."""
    async with transaction(deps.sessions, read_only=True) as session:
        rows = await session.execute(
            select(
                XeroConnection.tenant_name, XeroConnection.gone_since,
                XeroConnection.plan_flagged_since, XeroConnection.plan_class,
            )
        )  # fmt: skip
        return {name: (gone, flagged, plan) for name, gone, flagged, plan in rows}


CONNECTED: StoreState = (StoreStatus.CONNECTED, None, None)
TRIALS = 5
HELD: tuple[Endpoint, ...] = ("connections", "organisation")


async def arrivals(emulator: XeroEmulator, endpoint: Endpoint, count: int) -> None:
    """Wait until `count` calls of `endpoint` have reached the emulator."""
    async with asyncio.timeout(10):
        while emulator.call_count(endpoint) < count:  # noqa: ASYNC110 - counts, no event
            await asyncio.sleep(0.01)


async def test_a_check_of_healthy_connections_changes_no_store_and_records_the_check(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    await connected_organisation(deps, cloudpos, emulator)

    result = await domain.health.check_connections(deps)

    assert result == ConnectionCheck(grants_checked=1, calls_made=2)
    assert await store_states(deps) == {"Acme/S001": CONNECTED, "Acme/S002": CONNECTED}
    assert await grant_checks(deps) == [(clock.now, None)]
    assert emulator.call_count("connections") == 2  # one at consent, one by the check


async def test_an_organisation_disconnected_at_xero_needs_reconnecting_with_the_reason(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    emulator.disconnect_organisation(org.tenant_id)
    noticed = clock.now

    result = await domain.health.check_connections(deps)

    assert result == ConnectionCheck(grants_checked=1, connections_gone=1, calls_made=1)
    gone = (StoreStatus.NEEDS_RECONNECT, GONE, noticed)
    assert await store_states(deps) == {"Acme/S001": gone, "Acme/S002": gone}
    assert (await connection_flags(deps))["Acme Ltd"][0] == noticed
    [(customer_id, detail)] = await audited(deps, "connection.gone")
    assert customer_id == 1
    assert detail == {"stores": ["S001", "S002"], "organisation": "Acme Ltd"}
    history = await domain.audit.history(deps, customer_id=1)
    assert history[0].action == "connection.gone"


async def test_a_later_check_keeps_when_the_disconnect_was_first_noticed(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    emulator.disconnect_organisation(org.tenant_id)
    noticed = clock.now
    await domain.health.check_connections(deps)
    clock.advance(hours=30)

    result = await domain.health.check_connections(deps)

    assert result == ConnectionCheck(grants_checked=1, connections_gone=0, calls_made=1)
    gone = (StoreStatus.NEEDS_RECONNECT, GONE, noticed)
    assert await store_states(deps) == {"Acme/S001": gone, "Acme/S002": gone}
    assert (await connection_flags(deps))["Acme Ltd"][0] == noticed
    assert len(await audited(deps, "connection.gone")) == 1


async def test_only_the_stores_of_the_disconnected_organisation_are_marked(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    await connected_organisation(
        deps, cloudpos, emulator, name="Beta", organisation="Beta Ltd", user="xero-user-2"
    )
    emulator.disconnect_organisation(org.tenant_id)

    result = await domain.health.check_connections(deps)

    assert result == ConnectionCheck(grants_checked=2, connections_gone=1, calls_made=3)
    states = await store_states(deps)
    assert states["Beta/S001"] == states["Beta/S002"] == CONNECTED
    assert states["Acme/S001"][0] == StoreStatus.NEEDS_RECONNECT


async def test_a_reconnected_organisation_loses_its_reason_at_the_next_check(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    emulator.disconnect_organisation(org.tenant_id)
    await domain.health.check_connections(deps)
    emulator.authorise(  # the user connects the app to the organisation again at Xero
        user_id="xero-user-1", tenant_ids=[org.tenant_id], redirect_uri="https://x.test", state="s"
    )

    result = await domain.health.check_connections(deps)

    assert result.connections_gone == 0
    assert await store_states(deps) == {"Acme/S001": CONNECTED, "Acme/S002": CONNECTED}
    assert (await connection_flags(deps))["Acme Ltd"][0] is None
    [(_, detail)] = await audited(deps, "connection.back")
    assert detail["stores"] == ["S001", "S002"]


async def test_a_downgraded_plan_flags_the_stores_and_leaves_them_connected(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    org.plan_class = "STARTER"
    flagged_at = clock.now

    result = await domain.health.check_connections(deps)

    assert result == ConnectionCheck(grants_checked=1, plans_flagged=1, calls_made=2)
    flagged = (StoreStatus.CONNECTED, STARTER, flagged_at)
    assert await store_states(deps) == {"Acme/S001": flagged, "Acme/S002": flagged}
    assert (await connection_flags(deps))["Acme Ltd"] == (None, flagged_at, "STARTER")
    [(customer_id, detail)] = await audited(deps, "plan.flagged")
    assert customer_id == 1
    assert detail["plan"] == "Starter"
    assert emulator.connections  # nothing was disconnected at Xero

    clock.advance(hours=25)
    again = await domain.health.check_connections(deps)
    assert again.plans_flagged == 0
    assert (await store_states(deps))["Acme/S001"] == flagged  # since when is kept
    assert len(await audited(deps, "plan.flagged")) == 1


async def test_an_upgraded_plan_clears_the_flag_and_the_reason(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    org.plan_class = "STARTER"
    await domain.health.check_connections(deps)
    org.plan_class = "PREMIUM"
    clock.advance(hours=24)

    result = await domain.health.check_connections(deps)

    assert result == ConnectionCheck(grants_checked=1, plans_cleared=1, calls_made=2)
    assert await store_states(deps) == {"Acme/S001": CONNECTED, "Acme/S002": CONNECTED}
    assert (await connection_flags(deps))["Acme Ltd"] == (None, None, "PREMIUM")
    assert len(await audited(deps, "plan.cleared")) == 1


async def test_the_plan_is_read_once_a_day(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    await domain.health.check_connections(deps)
    org.plan_class = "STARTER"
    before = emulator.call_count("organisation")

    clock.advance(hours=23)
    soon = await domain.health.check_connections(deps)
    clock.advance(hours=1)
    next_day = await domain.health.check_connections(deps)

    assert (soon.calls_made, soon.plans_flagged) == (1, 0)
    assert (next_day.calls_made, next_day.plans_flagged) == (2, 1)
    assert emulator.call_count("organisation") == before + 1


async def test_a_plan_flag_does_not_hide_a_disconnect(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    org.plan_class = "STARTER"
    await domain.health.check_connections(deps)
    emulator.disconnect_organisation(org.tenant_id)
    clock.advance(hours=1)

    await domain.health.check_connections(deps)

    gone = (StoreStatus.NEEDS_RECONNECT, GONE, clock.now)
    assert await store_states(deps) == {"Acme/S001": gone, "Acme/S002": gone}


FAULTS = [
    pytest.param("rate_limited", id="429"),
    pytest.param("server_error", id="500"),
    pytest.param("lost", id="lost-answer"),
]


def inject(emulator: XeroEmulator, endpoint: Endpoint, fault: str) -> None:
    """Every attempt the client makes at `endpoint` fails so (it tries 4 times)."""
    if fault == "rate_limited":
        emulator.fail_next(endpoint, status=429, retry_after=1, times=None)
    elif fault == "server_error":
        emulator.fail_next(endpoint, status=500, times=None)
    else:
        emulator.lose_next_answers(endpoint, times=4)


@pytest.mark.parametrize("endpoint", ["connections", "organisation", "token"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_when_xero_cannot_be_asked_nothing_is_marked_broken(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
    endpoint: Endpoint,
    fault: str,
) -> None:
    org = await connected_organisation(deps, cloudpos, emulator)
    org.plan_class = "STARTER"  # what a check that reached Xero would flag
    await expire_soon(deps, minutes=1)  # so the check renews the token first
    inject(emulator, endpoint, fault)
    failed_at = clock.now

    result = await domain.health.check_connections(deps)

    assert result.grants_unreachable == 1
    assert (result.grants_checked, result.grants_cannot_check) == (0, 0)
    assert await store_states(deps) == {"Acme/S001": CONNECTED, "Acme/S002": CONNECTED}
    flags = (await connection_flags(deps))["Acme Ltd"]
    assert flags[:2] == (None, None)
    assert await grant_checks(deps) == [(None, failed_at)]
    [(status,)] = [row[:1] for row in await grant_statuses(deps)]
    assert status == GrantStatus.ACTIVE
    for action in ("connection.gone", "plan.flagged", "grant.needs_reconnect"):
        assert await audited(deps, action) == []

    emulator.clear_faults()
    clock.advance(minutes=10)
    healed = await domain.health.check_connections(deps)
    assert (healed.grants_checked, healed.grants_unreachable, healed.plans_flagged) == (1, 0, 1)
    assert await grant_checks(deps) == [(clock.now, None)]


async def grant_statuses(deps: Dependencies) -> list[tuple[GrantStatus]]:
    async with transaction(deps.sessions, read_only=True) as session:
        return [(row,) for row in await session.scalars(select(XeroGrant.status))]


async def test_a_grant_unreachable_for_more_than_a_day_cannot_be_checked(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    await connected_organisation(deps, cloudpos, emulator)
    emulator.fail_next("connections", status=503, times=None)
    first_failed = clock.now

    first = await domain.health.check_connections(deps)
    clock.advance(hours=24)
    one_day = await domain.health.check_connections(deps)
    clock.advance(minutes=1)
    later = await domain.health.check_connections(deps)

    assert (first.grants_unreachable, first.grants_cannot_check) == (1, 0)
    assert (one_day.grants_unreachable, one_day.grants_cannot_check) == (1, 0)
    assert (later.grants_unreachable, later.grants_cannot_check) == (1, 1)
    assert await grant_checks(deps) == [(None, first_failed)]
    assert (await store_states(deps))["Acme/S001"] == CONNECTED


async def test_a_held_call_that_times_out_marks_nothing_and_holds_no_database_lock(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    """Xero never answers the connections call: each attempt times out on the client."""
    await connected_organisation(deps, cloudpos, emulator)
    other = await registered(deps, cloudpos, name="Other")
    impatient_client = _client(emulator, timeout=0.2)
    impatient = replace(deps, xero=impatient_client)
    held = emulator.hold("connections")
    checking = asyncio.create_task(domain.health.check_connections(impatient))
    try:
        await asyncio.wait_for(held.arrived(), 10)
        link = await asyncio.wait_for(
            domain.links.issue(deps, customer_id=other.id, store_codes=None, actor=AGENT), 10
        )
        result = await asyncio.wait_for(checking, 30)
    finally:
        held.release()
        await impatient_client.aclose()

    assert link.customer_name == "Other"
    assert (result.grants_unreachable, result.grants_checked) == (1, 0)
    assert (await store_states(deps))["Acme/S001"] == CONNECTED
    assert emulator.call_count("connections") == 1 + 4  # the consent's, then 4 attempts


def _client(emulator: XeroEmulator, *, timeout: float) -> XeroClient:
    """The bot's Xero client with a short timeout, on a transport that honours it."""
    return XeroClient(
        client_id=conftest.CLIENT_ID,
        client_secret=conftest.CLIENT_SECRET,
        redirect_uri=f"{conftest.PUBLIC_BASE_URL}/xero/callback",
        scopes=("offline_access", "accounting.settings.read"),
        authorize_url=conftest.XERO_AUTHORIZE_URL,
        token_url=conftest.XERO_TOKEN_URL,
        revoke_url=conftest.XERO_REVOKE_URL,
        api_url=conftest.XERO_API_URL,
        transport=emulator.transport(timeouts=True),
        timeout=timeout,
        sleep=conftest._no_sleep,
    )


async def test_a_grant_revoked_at_xero_is_counted_and_marked_by_the_refresh(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    await connected_organisation(deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    await expire_soon(deps, minutes=1)

    result = await domain.health.check_connections(deps)

    assert result == ConnectionCheck(grants_need_reconnect=1)
    assert (await store_states(deps))["Acme/S001"][0] == StoreStatus.NEEDS_RECONNECT
    assert len(await audited(deps, "grant.needs_reconnect")) == 1


async def test_every_grant_is_checked_across_pages(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    for n in range(1, 6):
        await connected_organisation(
            deps, cloudpos, emulator, name=f"C{n}", organisation=f"Org {n}", user=f"user-{n}",
            stores=1,
        )  # fmt: skip
    before = emulator.call_count("connections")

    result = await domain.health.check_connections(deps, page_size=2)

    assert result == ConnectionCheck(grants_checked=5, calls_made=10)
    assert emulator.call_count("connections") == before + 5
    checks = await grant_checks(deps)
    assert checks == [(clock.now, None)] * 5


async def test_checks_running_at_once_record_each_change_once(
    engine: AsyncEngine,
    database_url: str,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    """Three replicas, each on its own engine, check at the same moment (on PostgreSQL
    really at once), round after round: organisations go and come back at Xero, plans are
    downgraded and upgraded. Every change is recorded once."""
    engines = [engine, create_engine(database_url), create_engine(database_url)]
    try:
        replicas = [make_deps(each, clock, cloudpos, emulator) for each in engines]
        deps = replicas[0]
        orgs = [
            await connected_organisation(
                deps, cloudpos, emulator, name=f"C{n}", organisation=f"Org {n}",
                user=f"user-{n}", stores=2,
            )
            for n in range(1, 7)
        ]  # fmt: skip
        going, downgraded = orgs[:3], orgs[3:]

        async def race(plans_due: int) -> ConnectionCheck:
            """Every replica's calls wait at Xero until all have arrived, so their answers
            come back, and their changes are written, at the same moment."""
            held = {endpoint: emulator.hold(endpoint) for endpoint in HELD}
            arrived = {endpoint: emulator.call_count(endpoint) for endpoint in HELD}
            checks = asyncio.gather(
                *(domain.health.check_connections(replica) for replica in replicas)
            )
            try:
                for endpoint, calls in (("connections", len(orgs)), ("organisation", plans_due)):
                    await arrivals(emulator, endpoint, arrived[endpoint] + calls * len(replicas))
                    held[endpoint].release()
                results = await asyncio.wait_for(checks, 30)
            finally:
                for hold in held.values():
                    hold.release()
            return ConnectionCheck(
                connections_gone=sum(result.connections_gone for result in results),
                plans_flagged=sum(result.plans_flagged for result in results),
                plans_cleared=sum(result.plans_cleared for result in results),
            )

        # SQLite runs one writer at a time anyway (and slowly so across engines): one round.
        rounds = TRIALS if engine.dialect.name == "postgresql" else 1
        for round_ in range(1, rounds + 1):
            for org in going:
                emulator.disconnect_organisation(org.tenant_id)
            for org in downgraded:
                org.plan_class = "STARTER"
            clock.advance(hours=24)
            assert await race(3) == ConnectionCheck(connections_gone=3, plans_flagged=3)
            for org, user in zip(going, ("user-1", "user-2", "user-3"), strict=True):
                emulator.authorise(
                    user_id=user, tenant_ids=[org.tenant_id], redirect_uri="https://x.test",
                    state="again",
                )  # fmt: skip
            for org in downgraded:
                org.plan_class = "STANDARD"
            clock.advance(hours=24)
            assert await race(6) == ConnectionCheck(plans_cleared=3)

            for action in ("connection.gone", "connection.back", "plan.flagged", "plan.cleared"):
                assert len(await audited(deps, action)) == 3 * round_, (action, round_)
        assert set((await store_states(deps)).values()) == {CONNECTED}
    finally:
        await asyncio.gather(*(each.dispose() for each in engines[1:]))
