"""What needs the helpdesk now, on one page: broken stores, waiting and expiring links,
organisations whose plan cannot be integrated, the app's connection limit, the jobs, and the
sync webhook when its pushes are stuck.

`overview` reads it all in one read-only transaction. Every list is bounded and comes
with its total, so a front door can say "and N more" instead of running out of room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    ConnectionStatus,
    ConsentRequest,
    Customer,
    Store,
    StoreLink,
    XeroConnection,
)

from ._broken_stores import broken_stores
from ._job_runs import last_runs_in
from ._queries import OPEN_CONSENT_STATUSES, organisations_connected
from ._requests import open_link
from ._session import transaction
from .dependencies import Dependencies
from .jobs import FAILED
from .results import CustomerAttention, JobRunView, OpenLink
from .sync_events import WebhookState, webhook_state_in
from .tiers import WARN_AT, capacity_warning

EXPIRING_WITHIN = timedelta(days=1)
"""A waiting link that runs out sooner than this is listed as expiring."""


@dataclass(frozen=True, kw_only=True)
class FlaggedPlan:
    """An organisation whose Xero plan cannot be integrated: posting to it will fail."""

    tenant_id: str
    organisation_name: str
    plan_class: str
    edition: str
    since: datetime
    customer_names: tuple[str, ...]
    """The customers with stores linked to it, by name."""


@dataclass(frozen=True, kw_only=True)
class Capacity:
    """The organisations the app has connected against its Xero tier's limit."""

    used: int
    limit: int | None
    """None: the tier has no limit."""
    tier: str
    warning: str
    """What an agent should know about it, or "" while the app is well below the limit."""

    @property
    def near_limit(self) -> bool:
        return self.limit is not None and self.used >= WARN_AT * self.limit


@dataclass(frozen=True, kw_only=True)
class Attention:
    """Everything `overview` found, each list bounded, with its total."""

    as_of: datetime
    customers: tuple[CustomerAttention, ...]
    """Customers with stores that need attention, by name; at most `limit` stores in all."""
    customers_total: int
    stores_total: int
    waiting: tuple[OpenLink, ...]
    """Links waiting for the customer, oldest first."""
    waiting_total: int
    expiring: tuple[OpenLink, ...]
    """Waiting links that run out within `EXPIRING_WITHIN`, soonest first."""
    expiring_total: int
    plans: tuple[FlaggedPlan, ...]
    """Organisations flagged for a plan that cannot be integrated, longest-flagged first."""
    plans_total: int
    capacity: Capacity
    jobs: tuple[JobRunView, ...]
    """The latest run of each job that ever ran, by job name."""
    webhook: WebhookState | None = None
    """How pushing store events goes, only when it is stuck (tried and failing for five
    minutes, or events abandoned in the last day)."""

    @property
    def all_good(self) -> bool:
        """Nothing for the helpdesk to do: waiting links alone are the customers' turn."""
        return not (
            self.stores_total
            or self.expiring_total
            or self.plans_total
            or self.capacity.near_limit
            or any(run.outcome == FAILED for run in self.jobs)
            or self.webhook is not None
        )


async def overview(deps: Dependencies, *, limit: int = 20) -> Attention:
    """What needs the helpdesk, read in one read-only transaction; each list holds at most
    `limit` entries (stores in all, links, organisations) and comes with its total."""
    now = deps.clock()
    async with transaction(deps, read_only=True) as session:
        customers, customers_total, stores_total = await broken_stores(session, limit=limit)
        waiting, waiting_total = await _links(deps, session, limit=limit, expiring=False)
        expiring, expiring_total = await _links(deps, session, limit=limit, expiring=True)
        plans, plans_total = await _flagged_plans(session, limit=limit)
        used = await organisations_connected(session)
        jobs = await last_runs_in(session)
        webhook = await webhook_state_in(session, now)
    return Attention(
        as_of=now,
        customers=customers,
        customers_total=customers_total,
        stores_total=stores_total,
        waiting=waiting,
        waiting_total=waiting_total,
        expiring=expiring,
        expiring_total=expiring_total,
        plans=plans,
        plans_total=plans_total,
        capacity=Capacity(
            used=used,
            limit=deps.tier.connection_limit,
            tier=deps.tier.value,
            warning=capacity_warning(used=used, tier=deps.tier),
        ),
        jobs=jobs,
        webhook=webhook if webhook.stuck else None,
    )


async def _links(
    deps: Dependencies, session: AsyncSession, *, limit: int, expiring: bool
) -> tuple[tuple[OpenLink, ...], int]:
    """Links the customer can still use, oldest first; with `expiring`, only those that
    run out within `EXPIRING_WITHIN`, soonest first."""
    now = deps.clock()
    usable = [ConsentRequest.status.in_(OPEN_CONSENT_STATUSES), ConsentRequest.expires_at > now]
    if expiring:
        usable.append(ConsentRequest.expires_at <= now + EXPIRING_WITHIN)
    order = (
        (ConsentRequest.expires_at, ConsentRequest.id)
        if expiring
        else (ConsentRequest.created_at, ConsentRequest.id)
    )
    total = await session.scalar(select(func.count()).select_from(ConsentRequest).where(*usable))
    requests = await session.scalars(
        select(ConsentRequest)
        .where(*usable)
        .order_by(*order)
        .limit(limit)
        .options(selectinload(ConsentRequest.stores), selectinload(ConsentRequest.customer))
    )
    found = tuple(open_link(request, customer_name=request.customer.name) for request in requests)
    return found, total or 0


async def _flagged_plans(
    session: AsyncSession, *, limit: int
) -> tuple[tuple[FlaggedPlan, ...], int]:
    """Connected organisations flagged for their plan, one entry per organisation however
    many Xero users connected it, longest-flagged first."""
    flagged = (
        XeroConnection.status == ConnectionStatus.ACTIVE,
        XeroConnection.gone_since.is_(None),
        XeroConnection.plan_flagged_since.is_not(None),
    )
    total = await session.scalar(
        select(func.count(func.distinct(XeroConnection.tenant_id))).where(*flagged)
    )
    since = func.min(XeroConnection.plan_flagged_since)
    rows = (
        await session.execute(
            select(
                XeroConnection.tenant_id,
                func.max(XeroConnection.tenant_name),
                func.max(XeroConnection.plan_class),
                func.max(XeroConnection.edition),
                since,
            )
            .where(*flagged)
            .group_by(XeroConnection.tenant_id)
            .order_by(since, XeroConnection.tenant_id)
            .limit(limit)
        )
    ).all()
    tenants = [row[0] for row in rows]
    names: dict[str, list[str]] = {tenant: [] for tenant in tenants}
    if tenants:
        linked = await session.execute(
            select(XeroConnection.tenant_id, Customer.name)
            .join(StoreLink, StoreLink.connection_id == XeroConnection.id)
            .join(Store, StoreLink.store_id == Store.id)
            .join(Customer, Store.customer_id == Customer.id)
            .where(*flagged, StoreLink.active.is_(True), XeroConnection.tenant_id.in_(tenants))
            .distinct()
            .order_by(XeroConnection.tenant_id, Customer.name)
        )
        for tenant, customer in linked:
            names[tenant].append(customer)
    plans = tuple(
        FlaggedPlan(
            tenant_id=tenant,
            organisation_name=name,
            plan_class=plan_class,
            edition=edition,
            since=flagged_since,
            customer_names=tuple(names[tenant]),
        )
        for tenant, name, plan_class, edition, flagged_since in rows
        if flagged_since is not None  # always, by the query's WHERE; for the type checker
    )
    return plans, total or 0


# --- the jobs --------------------------------------------------------------------------
