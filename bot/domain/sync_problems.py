"""Problems the sync service met posting a store's sales: recorded, then the store's
connection is checked at once, so the helpdesk hears of a broken one within the minute
rather than at the next scheduled check."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select

from bot.common.redaction import redact
from storage.models import GrantStatus, Store, XeroGrant

from . import health
from ._session import audit, transaction
from .dependencies import Dependencies
from .errors import InvalidRequest
from .results import ConnectionCheck
from .sync import SyncStatus, linked_store, sync_status

MAX_DETAIL = 1000
CHECKED_WITHIN = timedelta(minutes=1)
"""A grant checked this recently is not checked again for another report: a failing sync
run reports many times a minute, and each check costs Xero calls."""


class ProblemKind(StrEnum):
    UNAUTHORIZED = "unauthorized"
    """Xero refused the access token (401)."""
    FORBIDDEN = "forbidden"
    """Xero refused the organisation (403): the connection may have been removed."""
    PLAN = "plan"
    """Xero refused for the organisation's plan."""
    OTHER = "other"


class CheckOutcome(StrEnum):
    CHECKED = "checked"
    RECENTLY_CHECKED = "recently_checked"
    NOT_CONNECTED = "not_connected"
    """The store has no organisation to check (it is known broken or not connected)."""


@dataclass(frozen=True, kw_only=True)
class ProblemReceived:
    check: CheckOutcome
    status: SyncStatus
    """The store's status after the check."""
    broken: bool
    """The check found the connection broken (the helpdesk is alerted)."""


async def report_problem(
    deps: Dependencies,
    *,
    group: str,
    store_code: str,
    kind: str,
    detail: str,
    reporter: str,
) -> ProblemReceived:
    """Record what Xero told the sync service about a store, and check its connection now."""
    try:
        problem = ProblemKind(kind)
    except ValueError:
        kinds = ", ".join(member.value for member in ProblemKind)
        raise InvalidRequest(f"kind must be one of {kinds}.", field="kind") from None
    async with transaction(deps) as session:
        store, _, grant = await linked_store(session, group=group, store_code=store_code)
        audit(
            deps, session, actor=reporter, action="sync.problem", customer_id=store.customer_id,
            store_id=store.id, store=store.code, kind=problem.value,
            problem=redact(detail[:MAX_DETAIL]),
        )  # fmt: skip
        store_id = store.id
    if grant is None or grant.status != GrantStatus.ACTIVE:
        outcome, check = CheckOutcome.NOT_CONNECTED, ConnectionCheck()
    else:
        # Reports arriving together (a sync run's workers) wait for one check, not one each.
        # Keyed by -id: the grant's own lock (its id) is the refresh's, taken in the check.
        lock = deps.grant_locks.setdefault(-grant.id, asyncio.Lock())
        async with lock:
            if await _checked_recently(deps, grant.id):
                outcome, check = CheckOutcome.RECENTLY_CHECKED, ConnectionCheck()
            else:
                outcome = CheckOutcome.CHECKED
                deps.problem_checks[grant.id] = deps.clock()
                check = await health.check_grant(
                    deps,
                    grant_id=grant.id,
                    refresh=problem == ProblemKind.UNAUTHORIZED,
                    plans=problem == ProblemKind.PLAN,
                )
    async with transaction(deps, read_only=True) as session:
        now = await session.get(Store, store_id)
        status = sync_status(now) if now is not None else SyncStatus.NOT_CONNECTED
    broken = bool(
        check.connections_gone
        or check.grants_need_reconnect
        or check.plans_flagged
        or check.stores_no_longer_ready
    )
    return ProblemReceived(check=outcome, status=status, broken=broken)


async def _checked_recently(deps: Dependencies, grant_id: int) -> bool:
    """Whether the grant was checked within `CHECKED_WITHIN`: by any replica's check that
    reached Xero, or by this process's last try, answered or not."""
    async with transaction(deps, read_only=True) as session:
        checked_at = await session.scalar(
            select(XeroGrant.checked_at).where(XeroGrant.id == grant_id)
        )
    tried = deps.problem_checks.get(grant_id)
    return any(
        when is not None and deps.clock() - when < CHECKED_WITHIN for when in (checked_at, tried)
    )
