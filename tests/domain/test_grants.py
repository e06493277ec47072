"""Access tokens stay fresh, and one token set is never refreshed twice, even across processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.domain.errors import ExternalServiceError, XeroGrantRevoked
from bot.domain.ports import TokenSet
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import RefreshTokenInfo, XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import GrantStatus, StoreStatus, XeroGrant
from tests.conftest import ENCRYPTION_KEY, Clock, make_deps
from tests.domain_helpers import (
    CUSTOMER,
    connected_grant,
    consented,
    expire_soon,
    option_id,
    registered,
    stored_grant,
)

CURRENT = RefreshTokenInfo("xero-user-1", rotated=False, revoked=False, newest=True)
"""A refresh token Xero issued last to the user, not used yet."""


def refreshes(emulator: XeroEmulator) -> list[str]:
    """The refresh tokens Xero's token endpoint was sent, in order."""
    return [
        form["refresh_token"]
        for form in emulator.token_requests
        if form.get("grant_type") == "refresh_token"
    ]


async def test_a_fresh_token_is_used_as_it_is(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    grant = await stored_grant(deps)

    token = await domain.grants.access_token(deps, grant_id=grant_id)

    assert token == Vault([ENCRYPTION_KEY]).decrypt(grant.access_token_encrypted)
    assert refreshes(emulator) == []


async def test_a_token_near_expiry_is_refreshed_and_the_rotated_token_stored(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, old_refresh = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=4)  # inside the 5-minute margin

    token = await domain.grants.access_token(deps, grant_id=grant_id)

    assert refreshes(emulator) == [old_refresh]
    grant = await stored_grant(deps)
    vault = Vault([ENCRYPTION_KEY])
    assert vault.decrypt(grant.access_token_encrypted) == token
    new_refresh = vault.decrypt(grant.refresh_token_encrypted)
    assert new_refresh != old_refresh
    assert emulator.refresh_token_info(new_refresh) == CURRENT


async def test_a_lost_refresh_response_is_retried_with_the_old_token(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, old_refresh = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=1)
    emulator.lose_next_answers("token")

    await domain.grants.access_token(deps, grant_id=grant_id)

    assert refreshes(emulator) == [old_refresh, old_refresh]
    grant = await stored_grant(deps)
    stored = Vault([ENCRYPTION_KEY]).decrypt(grant.refresh_token_encrypted)
    assert emulator.refresh_token_info(stored) == CURRENT  # the answer that arrived
    assert stored != old_refresh


async def test_invalid_grant_marks_the_grant_and_its_stores_and_is_not_retried(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    clock.advance(hours=1)

    with pytest.raises(XeroGrantRevoked, match="Send the customer a new consent link"):
        await domain.grants.access_token(deps, grant_id=grant_id)
    with pytest.raises(XeroGrantRevoked):
        await domain.grants.access_token(deps, grant_id=grant_id)

    assert len(refreshes(emulator)) == 1
    assert (await stored_grant(deps)).status == GrantStatus.NEEDS_RECONNECT
    summary = await domain.organisations.summary(deps, customer_id=1)
    assert summary.groups[0].grant_status == GrantStatus.NEEDS_RECONNECT
    assert [s.status for s in summary.groups[0].stores] == [StoreStatus.NEEDS_RECONNECT]
    assert (await domain.audit.history(deps, customer_id=1))[0].action == "grant.needs_reconnect"


async def test_reconsent_heals_a_grant_that_needed_reconnecting(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    clock.advance(hours=1)
    with pytest.raises(XeroGrantRevoked):
        await domain.grants.access_token(deps, grant_id=grant_id)

    customer = await domain.customers.get(deps, customer_id=1)
    tenant = emulator.organisations[0]
    await consented(deps, emulator, customer, [tenant], codes=["S002"])

    assert (await stored_grant(deps)).status == GrantStatus.ACTIVE
    store = (await domain.customers.get(deps, customer_id=1)).stores[0]
    assert (store.code, store.status) == ("S001", StoreStatus.CONNECTED)


WORKERS = 8


async def test_eight_workers_refresh_one_grant_once(
    engine: AsyncEngine,
    database_url: str,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    """Each worker has its own engine, as separate processes would: the row lock decides."""
    deps = make_deps(engine, clock, cloudpos, emulator)
    grant_id, old_refresh = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=2)
    engines = [create_engine(database_url) for _ in range(WORKERS)]
    try:
        workers = [make_deps(worker_engine, clock, cloudpos, emulator) for worker_engine in engines]
        tokens = await asyncio.gather(
            *(domain.grants.access_token(worker, grant_id=grant_id) for worker in workers)
        )
    finally:
        await asyncio.gather(*(worker_engine.dispose() for worker_engine in engines))

    assert refreshes(emulator) == [old_refresh]
    assert len(set(tokens)) == 1
    async with transaction(session_factory(engine)) as session:
        grant = await session.scalar(select(XeroGrant))
    assert grant is not None
    vault = Vault([ENCRYPTION_KEY])
    assert vault.decrypt(grant.access_token_encrypted) == tokens[0]
    stored_refresh = vault.decrypt(grant.refresh_token_encrypted)
    assert stored_refresh != old_refresh
    assert emulator.refresh_token_info(stored_refresh) == CURRENT


async def test_workers_in_one_process_share_a_lock(
    tmp_path: Path, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}")
    await upgrade(engine)
    deps = make_deps(engine, clock, cloudpos, emulator)
    grant_id, old_refresh = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=2)

    tokens = await asyncio.gather(
        *(domain.grants.access_token(deps, grant_id=grant_id) for _ in range(5))
    )

    await engine.dispose()
    assert refreshes(emulator) == [old_refresh]
    assert len(set(tokens)) == 1


async def test_a_store_needing_reconnect_keeps_its_group_while_a_new_link_is_out(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    clock.advance(hours=1)
    with pytest.raises(XeroGrantRevoked):
        await domain.grants.access_token(deps, grant_id=grant_id)

    link = await domain.links.issue(deps, customer_id=1, store_codes=["S001"], actor="agent")
    await domain.links.revoke(deps, consent_request_id=link.consent_request_id, actor="agent")

    group = (await domain.organisations.summary(deps, customer_id=1)).groups[0]
    assert [(s.code, s.status) for s in group.stores] == [("S001", StoreStatus.NEEDS_RECONNECT)]


async def test_keep_alive_refreshes_only_grants_unused_for_a_while(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, old_refresh = await connected_grant(deps, cloudpos, emulator)

    quiet = await domain.grants.keep_alive(deps, unused_for=timedelta(days=30))
    assert (quiet.refreshed, quiet.needs_reconnect, quiet.failed) == (0, 0, 0)

    clock.advance(days=31)
    report = await domain.grants.keep_alive(deps, unused_for=timedelta(days=30))

    assert (report.refreshed, report.needs_reconnect, report.failed) == (1, 0, 0)
    assert refreshes(emulator) == [old_refresh]
    assert (await stored_grant(deps)).refreshed_at == clock.now
    assert grant_id == (await stored_grant(deps)).id


async def test_keep_alive_reports_grants_xero_no_longer_accepts(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    await connected_grant(deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    clock.advance(days=61)

    report = await domain.grants.keep_alive(deps, unused_for=timedelta(days=30))

    assert (report.refreshed, report.needs_reconnect, report.failed) == (0, 1, 0)
    assert (await stored_grant(deps)).status == GrantStatus.NEEDS_RECONNECT


async def test_reconsent_restores_only_the_organisations_allowed_again(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    customer = await registered(deps, cloudpos)
    org_a, org_b = emulator.add_organisation("A Ltd"), emulator.add_organisation("B Ltd")
    token, view = await consented(deps, emulator, customer, [org_a, org_b], codes=["S001", "S002"])
    await domain.choice.confirm(
        deps,
        token=token,
        choices={"S001": option_id(view, "A Ltd"), "S002": option_id(view, "B Ltd")},
        actor=CUSTOMER,
    )
    emulator.revoke_user("xero-user-1")
    clock.advance(hours=1)
    with pytest.raises(XeroGrantRevoked):
        await domain.grants.access_token(deps, grant_id=(await stored_grant(deps)).id)

    await consented(deps, emulator, customer, [org_b], codes=["S003"])

    statuses = {s.code: s.status for s in (await domain.customers.get(deps, customer_id=1)).stores}
    assert statuses["S001"] == StoreStatus.NEEDS_RECONNECT
    assert statuses["S002"] == StoreStatus.CONNECTED


async def test_a_lease_left_by_a_dead_worker_is_taken_over_once_it_runs_out(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, old_refresh = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=10)
    async with transaction(deps.sessions) as session:
        grant = await session.get(XeroGrant, grant_id)
        assert grant is not None
        grant.refresh_lease, grant.refresh_lease_until = (
            "dead-worker",
            clock() + timedelta(minutes=2),
        )
    clock.advance(minutes=6)

    token = await domain.grants.access_token(deps, grant_id=grant_id)

    assert refreshes(emulator) == [old_refresh]
    stored = await stored_grant(deps)
    assert (stored.refresh_lease, stored.refresh_lease_until) == (None, None)
    assert Vault([ENCRYPTION_KEY]).decrypt(stored.access_token_encrypted) == token


async def test_a_failed_refresh_gives_its_lease_back(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=2)
    emulator.fail_next("token", status=503, times=None)

    with pytest.raises(ExternalServiceError):
        await domain.grants.access_token(deps, grant_id=grant_id)

    assert (await stored_grant(deps)).refresh_lease is None


async def test_a_refresh_xero_is_slow_to_answer_gives_up_inside_its_lease(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grant_id, old_refresh = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=4)
    monkeypatch.setattr(domain.grants, "REFRESH_WITHIN", timedelta(seconds=0.2))
    answer = deps.xero.refresh
    slow_once = [True]

    async def slow_first(*, refresh_token: str) -> TokenSet:
        if slow_once:
            slow_once.clear()
            await asyncio.sleep(5)  # Xero (and the client's retries) taking longer than that
        return await answer(refresh_token=refresh_token)

    monkeypatch.setattr(deps.xero, "refresh", slow_first)

    with pytest.raises(ExternalServiceError) as slow:
        await domain.grants.access_token(deps, grant_id=grant_id)

    assert slow.value.retryable
    assert "slow to renew" in slow.value.message
    grant = await stored_grant(deps)
    assert grant.refresh_lease is None, "the lease is given back, not left to run out"
    token = await domain.grants.access_token(deps, grant_id=grant_id)
    assert refreshes(emulator)[-1] == old_refresh, "Xero never answered: the old token is good"
    assert (
        Vault([ENCRYPTION_KEY]).decrypt((await stored_grant(deps)).access_token_encrypted) == token
    )


async def test_a_caller_waiting_for_this_process_to_finish_a_refresh_waits_a_bounded_time(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    await expire_soon(deps, minutes=4)
    monkeypatch.setattr(domain.grants, "LEASE_WAIT", timedelta(seconds=0.2))
    busy = deps.grant_locks.setdefault(grant_id, asyncio.Lock())
    await busy.acquire()  # a refresh of this grant in this process that does not end
    try:
        with pytest.raises(ExternalServiceError) as waited:
            await domain.grants.access_token(deps, grant_id=grant_id)
    finally:
        busy.release()
    assert waited.value.retryable
    assert refreshes(emulator) == []
