"""The connection check: does Xero still let the bot reach the organisations stores post to?

Run on a schedule (and by `xero-bot check-connections`). For every active grant it asks
Xero once which organisations the grant's user still has connected, and once a day per
organisation which plan it is on:

- an organisation of ours missing from Xero's answer was disconnected on Xero's side: its
  stores need reconnecting, with the reason and since when on each store;
- an organisation on a plan that cannot be integrated is flagged, and its stores carry the
  reason; nothing is disconnected and no status changes (posting will fail until it is
  upgraded or moved), and the flag and the reasons go when the plan can be integrated again;
- a store ready for sync whose posting set-up Xero no longer accepts (an account archived,
  a tax rate deleted) stops being ready, with the reason in the audit;
- when Xero cannot be asked (rate limits, outages, timeouts) nothing is marked broken: the
  grant is "unreachable", and "cannot check" once that has lasted more than a day.

No transaction is open while Xero answers: each grant is read, asked about, then written in
short transactions, each change audited once (the rows are locked while they change, so two
checks running at once record each change once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import select, update

from storage.models import (
    GrantStatus,
    XeroConnection,
    XeroGrant,
)

from . import grants
from ._connection_state import Outcome, apply_connections, apply_plan
from ._session import transaction
from ._setup_check import recheck_ready_setups
from .dependencies import Dependencies
from .errors import (
    DomainError,
    ExternalServiceError,
    NotFound,
    XeroConnectionGone,
    XeroGrantRevoked,
)
from .results import ConnectionCheck

log = logging.getLogger(__name__)

CONCURRENT_GRANTS = 10
"""Grants checked at once; the Xero client also keeps to 5 calls at once per organisation."""
CANNOT_CHECK_AFTER = timedelta(days=1)
"""A grant unreachable for longer than this is reported as "cannot check": its state is unknown."""


async def check_connections(deps: Dependencies, *, page_size: int = 200) -> ConnectionCheck:
    """Check every active grant at Xero once, `CONCURRENT_GRANTS` at a time.

    Grants are read by id in pages of `page_size` and handed to a fixed set of workers, so
    memory stays flat however many there are. Returns what was found, in counts.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    total = Outcome()
    queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=page_size)

    async def worker() -> None:
        while (grant_id := await queue.get()) is not None:
            total.add(await _check_grant(deps, grant_id))

    try:
        async with asyncio.TaskGroup() as group:
            workers = [group.create_task(worker()) for _ in range(CONCURRENT_GRANTS)]
            async for grant_id in _active_grant_ids(deps, page_size):
                await queue.put(grant_id)
            for _ in workers:
                await queue.put(None)
    except BaseExceptionGroup as failed:
        # A failure that is not Xero's (the database, a bug) ends the check: say what it was.
        for other in failed.exceptions[1:]:
            log.error("connection check: another worker failed too", exc_info=other)
        raise failed.exceptions[0] from None
    return total.result()


async def check_grant(
    deps: Dependencies, *, grant_id: int, refresh: bool = False, plans: bool = False
) -> ConnectionCheck:
    """Check one grant now, as the scheduled check would: for a problem someone reported.

    With `refresh`, its token set is renewed at Xero first (a token Xero refused may have
    been revoked); with `plans`, every organisation's plan is read again, due or not.
    """
    if plans:
        async with transaction(deps) as session:
            await session.execute(
                update(XeroConnection)
                .where(XeroConnection.grant_id == grant_id)
                .values(plan_checked_at=None)
            )
    if refresh:
        try:
            await grants.fresh_access_token(deps, grant_id=grant_id, refreshed_before=deps.clock())
        except XeroGrantRevoked:
            return Outcome(need_reconnect=1).result()
        except DomainError as error:
            return (await _unreachable(deps, grant_id, Outcome(), error)).result()
    return (await _check_grant(deps, grant_id)).result()


async def _active_grant_ids(deps: Dependencies, page_size: int) -> AsyncIterator[int]:
    """The ids of active grants, by keyset in pages (one short transaction each)."""
    after = 0
    while True:
        async with transaction(deps, read_only=True) as session:
            page = list(
                await session.scalars(
                    select(XeroGrant.id)
                    .where(XeroGrant.status == GrantStatus.ACTIVE, XeroGrant.id > after)
                    .order_by(XeroGrant.id)
                    .limit(page_size)
                )
            )
        for grant_id in page:
            yield grant_id
        if len(page) < page_size:
            return
        after = page[-1]


async def _check_grant(deps: Dependencies, grant_id: int) -> Outcome:
    """One grant: a fresh token, one list of its connections, and the plans that are due."""
    outcome = Outcome()
    try:
        access_token = await grants.access_token(deps, grant_id=grant_id)
        outcome.calls += 1
        listed = await deps.xero.connections(access_token=access_token)
    except XeroGrantRevoked:
        outcome.need_reconnect = 1  # `grants` marked the grant and its stores already
        return outcome
    except NotFound:
        return outcome  # deleted since its page was read
    except DomainError as error:
        return await _unreachable(deps, grant_id, outcome, error)
    due = await apply_connections(deps, grant_id, {tenant.tenant_id for tenant in listed}, outcome)
    if due is None:
        return outcome  # no longer active: someone disconnected or revoked it meanwhile
    failure: DomainError | None = None
    for connection_id, tenant_id in due:
        outcome.calls += 1
        try:
            organisation = await deps.xero.organisation(
                access_token=access_token, tenant_id=tenant_id
            )
        except XeroConnectionGone:
            # Disconnected since Xero listed it: the next check finds it gone.
            log.info("Xero connection %s went during the connection check", connection_id)
            continue
        except DomainError as error:
            failure = error
            continue
        await apply_plan(deps, connection_id, organisation, outcome)
    if failure is None:
        try:
            outcome.unready, calls = await recheck_ready_setups(
                deps, grant_id=grant_id, access_token=access_token
            )
            outcome.calls += calls
        except DomainError as error:
            failure = error
    if failure is not None:
        return await _unreachable(deps, grant_id, outcome, failure)
    async with transaction(deps) as session:
        await session.execute(
            update(XeroGrant)
            .where(XeroGrant.id == grant_id)
            .values(checked_at=deps.clock(), check_failing_since=None)
        )
    outcome.checked = 1
    return outcome


async def _unreachable(
    deps: Dependencies, grant_id: int, outcome: Outcome, error: DomainError
) -> Outcome:
    """Xero could not be asked: remember since when, and mark nothing broken."""
    retryable = isinstance(error, ExternalServiceError) and error.retryable
    (log.warning if retryable else log.error)(
        "connection check of Xero grant %s failed: %s", grant_id, error.message
    )
    async with transaction(deps) as session:
        grant = await session.scalar(
            select(XeroGrant).where(XeroGrant.id == grant_id).with_for_update(key_share=True)
        )
        if grant is None:
            return outcome
        now = deps.clock()
        if grant.check_failing_since is None:
            grant.check_failing_since = now
        since = grant.check_failing_since
    outcome.unreachable = 1
    outcome.cannot_check = int(now - since > CANNOT_CHECK_AFTER)
    return outcome
