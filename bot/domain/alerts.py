"""Alerts: the helpdesk hears of a customer's broken stores once, and then of every change.

`report` brings each customer's alert up to date with its stores. A customer whose stores
need attention has one open alert, reported once and then updated in place whenever what
it would say changes (a digest of its content is kept); once every store is healthy again
the alert is resolved, saying what fixed it. A later breakage opens a new alert.

It runs as a scheduled job (one process at a time holds its lease), after the connection
check found what broke. Nothing is locked while the notifier reports: each customer is
read, reported, then written, and a failed report is tried again on the next run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEvent,
    ConsentRequest,
    Customer,
    CustomerAlert,
    Store,
    StoreStatus,
)

from ._broken_stores import NEEDS_ATTENTION, customer_broken_stores
from ._session import transaction
from .dependencies import Dependencies
from .notify import Fix, StoresAlert
from .results import CustomerAttention

log = logging.getLogger(__name__)

ALERT_STORES = 20
"""Stores one alert lists; it says how many more there are."""
PAGE = 200
FIXES = (
    "consent.completed",
    "organisation.disconnected",
    "connection.back",
    "plan.cleared",
    "stores.refreshed",
)
"""Audited actions that can make a broken store healthy (or no longer ours to watch)."""


@dataclass
class AlertReport:
    """What one `report` did, in counts."""

    raised: int = 0
    updated: int = 0
    resolved: int = 0
    failed: int = 0


async def report(deps: Dependencies) -> AlertReport:
    """Bring every customer's alert up to date: raise, update in place, or resolve."""
    done = AlertReport()
    after = 0
    while True:
        async with transaction(deps, read_only=True) as session:
            page = await _customers_to_look_at(session, after=after)
        for customer_id in page:
            await _bring_up_to_date(deps, customer_id, done)
        if len(page) < PAGE:
            return done
        after = page[-1]


async def reconnect_codes(deps: Dependencies, *, customer_id: int) -> list[str]:
    """The codes of the customer's stores that need a new consent link, for the alert's
    button: read when it is clicked, so it covers exactly the stores broken now."""
    async with transaction(deps, read_only=True) as session:
        found = await session.scalars(
            select(Store.code)
            .where(Store.customer_id == customer_id, Store.status == StoreStatus.NEEDS_RECONNECT)
            .order_by(Store.code)
        )
        return list(found)


async def _customers_to_look_at(session: AsyncSession, *, after: int) -> list[int]:
    """Customers with stores that need attention, or with an alert still open, by id."""
    candidates = union(
        select(Store.customer_id.label("id")).where(NEEDS_ATTENTION),
        select(CustomerAlert.customer_id.label("id")).where(CustomerAlert.resolved_at.is_(None)),
    ).subquery()
    found = await session.scalars(
        select(candidates.c.id).where(candidates.c.id > after).order_by(candidates.c.id).limit(PAGE)
    )
    return list(found)


async def _bring_up_to_date(deps: Dependencies, customer_id: int, done: AlertReport) -> None:
    async with transaction(deps, read_only=True) as session:
        name = await session.scalar(select(Customer.name).where(Customer.id == customer_id))
        if name is None:
            return
        attention = await customer_broken_stores(
            session, customer_id=customer_id, limit=ALERT_STORES
        )
        alert = await session.get(CustomerAlert, customer_id)
        is_open = alert is not None and alert.resolved_at is None
        fix = None
        if attention is None and alert is not None and is_open:
            fix = await _fix(session, customer_id, alert)
    now = deps.clock()
    if attention is None:
        if alert is None or not is_open:
            return
        resolved = StoresAlert(
            customer_id=customer_id,
            customer_name=name,
            attention=None,
            opened_at=alert.opened_at,
            report=alert.report,
            fixed_by=fix,
        )
        delivered, _ = await _reported(deps, resolved, done)
        if delivered:
            await _write(deps, customer_id, report=alert.report, digest=None)
            done.resolved += 1
        return
    digest = _digest(attention)
    if is_open and alert is not None and alert.digest == digest:
        return
    kept = alert if is_open else None
    opened_at = kept.opened_at if kept else now
    previous = kept.report if kept else None
    delivered, where = await _reported(
        deps,
        StoresAlert(
            customer_id=customer_id,
            customer_name=name,
            attention=attention,
            opened_at=opened_at,
            report=previous,
        ),
        done,
    )
    if not delivered:
        return
    await _write(deps, customer_id, report=where or previous, digest=digest, opened_at=opened_at)
    if kept:
        done.updated += 1
    else:
        done.raised += 1


async def _reported(
    deps: Dependencies, alert: StoresAlert, done: AlertReport
) -> tuple[bool, str | None]:
    """Whether the notifier took `alert`, and where it reported it (None: nowhere)."""
    try:
        return True, await deps.notifier.stores_alert(alert)
    except Exception:
        log.exception("could not report the alert of customer #%s", alert.customer_id)
        done.failed += 1
        return False, None


async def _write(
    deps: Dependencies,
    customer_id: int,
    *,
    report: str | None,
    digest: str | None,
    opened_at: datetime | None = None,
) -> None:
    """Keep what was reported; without `opened_at`, the alert is resolved."""
    async with transaction(deps) as session:
        alert = await session.get(CustomerAlert, customer_id)
        if alert is None:
            if opened_at is None or await session.get(Customer, customer_id) is None:
                return  # resolved already, or the customer is gone
            alert = CustomerAlert(customer_id=customer_id, opened_at=opened_at)
            session.add(alert)
        alert.report = report
        alert.digest = digest
        if opened_at is None:
            alert.resolved_at = deps.clock()
        else:
            alert.opened_at = opened_at
            alert.resolved_at = None


async def _fix(session: AsyncSession, customer_id: int, alert: CustomerAlert) -> Fix | None:
    """The latest audited change since the alert opened that can have healed its stores."""
    event = await session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.customer_id == customer_id,
            AuditEvent.action.in_(FIXES),
            AuditEvent.occurred_at >= alert.opened_at,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    request_id = event.detail.get("consent_request_id")
    issued_by = None
    if isinstance(request_id, int):
        issued_by = await session.scalar(
            select(ConsentRequest.issued_by).where(ConsentRequest.id == request_id)
        )
    return Fix(
        actor=event.actor,
        action=event.action,
        at=event.occurred_at,
        consent_request_id=request_id if isinstance(request_id, int) else None,
        link_issued_by=issued_by,
    )


def _digest(attention: CustomerAttention) -> str:
    """What the alert says, hashed: the same stores, reasons and dates give the same digest."""
    content = [
        attention.total,
        [
            [
                store.code,
                store.name,
                store.status.value,
                store.organisation_name,
                store.reason,
                store.since.isoformat() if store.since else None,
            ]
            for store in attention.stores
        ],
    ]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()
