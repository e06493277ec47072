"""The stores that need the helpdesk: read for the overview (all customers, bounded) and
for one customer's alert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Store, StoreLink, StoreStatus, XeroConnection

from ._store_status import NO_LONGER_AUTHORISED
from .results import CustomerAttention, StoreAttention

NEEDS_ATTENTION: ColumnElement[bool] = or_(
    Store.status == StoreStatus.NEEDS_RECONNECT, Store.attention_reason.is_not(None)
)
"""A store needs attention when it must be reconnected or carries a reason (its plan)."""


async def broken_stores(
    session: AsyncSession, *, limit: int
) -> tuple[tuple[CustomerAttention, ...], int, int]:
    """The first `limit` stores needing attention by customer name and store code, grouped
    by customer; then how many customers and stores need attention in all."""
    totals = (
        await session.execute(
            select(func.count(func.distinct(Store.customer_id)), func.count()).where(
                NEEDS_ATTENTION
            )
        )
    ).one()
    rows = (await session.execute(_rows().limit(limit))).all()
    customers = await _grouped(session, rows)
    return customers, int(totals[0] or 0), int(totals[1] or 0)


async def customer_broken_stores(
    session: AsyncSession, *, customer_id: int, limit: int
) -> CustomerAttention | None:
    """One customer's stores that need attention (at most `limit`, with their total), or
    None when none do."""
    rows = (
        await session.execute(_rows().where(Store.customer_id == customer_id).limit(limit))
    ).all()
    found = await _grouped(session, rows)
    return found[0] if found else None


def _rows() -> Any:
    return (
        select(
            Customer.id,
            Customer.name,
            Store.code,
            Store.name,
            Store.status,
            Store.attention_reason,
            Store.attention_since,
            Store.status_changed_at,
            XeroConnection.tenant_name,
        )
        .join(Customer, Store.customer_id == Customer.id)
        .outerjoin(StoreLink, and_(StoreLink.store_id == Store.id, StoreLink.active.is_(True)))
        .outerjoin(XeroConnection, StoreLink.connection_id == XeroConnection.id)
        .where(NEEDS_ATTENTION)
        .order_by(Customer.name_key, Customer.id, Store.code)
    )


async def _grouped(session: AsyncSession, rows: Sequence[Any]) -> tuple[CustomerAttention, ...]:
    grouped: dict[tuple[int, str], list[StoreAttention]] = {}
    for cid, customer, code, name, status, reason, since, changed, organisation in rows:
        grouped.setdefault((cid, customer), []).append(
            StoreAttention(
                code=code,
                name=name,
                status=status,
                organisation_name=organisation,
                reason=reason or NO_LONGER_AUTHORISED,
                since=since or (changed if status == StoreStatus.NEEDS_RECONNECT else None),
            )
        )
    per_customer: dict[int, int] = {}
    if grouped:
        counted = await session.execute(
            select(Store.customer_id, func.count())
            .where(NEEDS_ATTENTION, Store.customer_id.in_([cid for cid, _ in grouped]))
            .group_by(Store.customer_id)
        )
        per_customer = {cid: count for cid, count in counted}
    return tuple(
        CustomerAttention(
            customer_id=cid,
            customer_name=customer,
            stores=tuple(stores),
            total=per_customer.get(cid, len(stores)),
        )
        for (cid, customer), stores in grouped.items()
    )
