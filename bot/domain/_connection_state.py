"""What a connection check writes: organisations gone at Xero or back, plans flagged or
cleared, with the reason on each store and one audit event per customer."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ConnectionStatus,
    GrantStatus,
    Store,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

from ._readiness import stop_being_ready
from ._session import audit, transaction
from ._store_status import set_store_status
from .dependencies import Dependencies
from .plans import PlanAssessment
from .ports import Organisation
from .results import ConnectionCheck

log = logging.getLogger(__name__)

ACTOR = "system"
PLAN_CHECK_INTERVAL = timedelta(hours=24)

_Kind = Callable[[str | None], bool]
"""Whether a store's attention reason is of one kind (gone, plan)."""
_GONE_MARK = "was disconnected on Xero's side"
_PLAN_MARK = "posting will fail."
_REASON_LENGTH = 300
"""`Store.attention_reason`'s column length."""


@dataclass
class Outcome:
    """What checking one grant found, or (added up) the whole check."""

    calls: int = 0
    checked: int = 0
    gone: int = 0
    flagged: int = 0
    cleared: int = 0
    unreachable: int = 0
    cannot_check: int = 0
    need_reconnect: int = 0
    unready: int = 0

    def add(self, other: Outcome) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def result(self) -> ConnectionCheck:
        return ConnectionCheck(
            grants_checked=self.checked,
            connections_gone=self.gone,
            plans_flagged=self.flagged,
            plans_cleared=self.cleared,
            grants_unreachable=self.unreachable,
            grants_cannot_check=self.cannot_check,
            calls_made=self.calls,
            grants_need_reconnect=self.need_reconnect,
            stores_no_longer_ready=self.unready,
        )


async def apply_connections(
    deps: Dependencies, grant_id: int, listed: set[str], outcome: Outcome
) -> list[tuple[int, str]] | None:
    """Mark the grant's organisations Xero no longer lists, restore those it lists again;
    the (connection id, tenant id) whose plan is due for a check. None if the grant is no
    longer active."""
    async with transaction(deps) as session:
        grant = await session.scalar(
            select(XeroGrant).where(XeroGrant.id == grant_id).with_for_update(key_share=True)
        )
        if grant is None or grant.status != GrantStatus.ACTIVE:
            return None
        connections = list(
            await session.scalars(
                select(XeroConnection)
                .where(
                    XeroConnection.grant_id == grant_id,
                    XeroConnection.status == ConnectionStatus.ACTIVE,
                )
                .order_by(XeroConnection.id)
                .with_for_update(key_share=True)
            )
        )
        stores = await _linked_stores(session, [connection.id for connection in connections])
        now = deps.clock()
        due: list[tuple[int, str]] = []
        for connection in connections:
            linked = stores.get(connection.id, [])
            if connection.tenant_id not in listed:
                outcome.gone += _gone(deps, session, connection, linked, now)
                continue
            if connection.gone_since is not None:
                _back(deps, session, connection, linked)
            checked = connection.plan_checked_at
            if checked is None or now - checked >= PLAN_CHECK_INTERVAL:
                due.append((connection.id, connection.tenant_id))
        return due


def _gone(
    deps: Dependencies,
    session: AsyncSession,
    connection: XeroConnection,
    stores: list[Store],
    now: datetime,
) -> int:
    """The organisation was disconnected on Xero's side: 1 if this check found it so first."""
    reason = gone_reason(connection.tenant_name)
    for store in stores:
        if store.status == StoreStatus.CONNECTED:
            set_store_status(deps, store, StoreStatus.NEEDS_RECONNECT)
        _set_attention(store, reason, now, same_kind=_is_gone_reason)
    if connection.gone_since is not None:
        return 0
    connection.gone_since = now
    _audit_per_customer(
        deps, session, "connection.gone", connection, stores, organisation=connection.tenant_name
    )
    log.warning("Xero connection %s was disconnected on Xero's side", connection.id)
    return 1


def _back(
    deps: Dependencies, session: AsyncSession, connection: XeroConnection, stores: list[Store]
) -> None:
    """Xero lists an organisation found gone before (it was connected again): its stores
    work again."""
    connection.gone_since = None
    restored = [store for store in stores if _is_gone_reason(store.attention_reason)]
    for store in restored:
        store.attention_reason = store.attention_since = None
        if store.status == StoreStatus.NEEDS_RECONNECT:
            set_store_status(deps, store, StoreStatus.CONNECTED)
    _audit_per_customer(
        deps, session, "connection.back", connection, restored, organisation=connection.tenant_name
    )


async def apply_plan(
    deps: Dependencies, connection_id: int, organisation: Organisation, outcome: Outcome
) -> None:
    """Store the plan Xero gave; flag the organisation and its stores if it cannot be
    integrated, clear them if it can again. No status changes and nothing is disconnected."""
    async with transaction(deps) as session:
        connection = await session.scalar(
            select(XeroConnection)
            .where(XeroConnection.id == connection_id)
            .with_for_update(key_share=True)
        )
        if (
            connection is None
            or connection.status != ConnectionStatus.ACTIVE
            or connection.gone_since is not None
        ):
            return
        # Read before changing anything: a second UPDATE of the row in this transaction
        # would check its grant key again and wait on a check holding the grant.
        stores = (await _linked_stores(session, [connection_id])).get(connection_id, [])
        now = deps.clock()
        connection.plan_checked_at = now
        if not organisation.plan_class.strip():
            log.warning("Xero gave no plan for connection %s; its flag is kept", connection_id)
            return
        connection.plan_class = organisation.plan_class
        connection.edition = organisation.edition
        connection.is_demo_company = organisation.is_demo_company
        assessment = deps.plans.assess_organisation(connection)
        name = connection.tenant_name
        if not assessment.eligible:
            plan = organisation.plan_class.strip().upper()
            by_plan = plan in deps.plans.ineligible_classes and not organisation.is_demo_company
            reason = plan_reason(name, assessment, by_plan=by_plan)
            for store in stores:
                if store.attention_reason is None or _is_plan_reason(store.attention_reason):
                    _set_attention(store, reason, now, same_kind=_is_plan_reason)
                stop_being_ready(deps, store, reason=f"Xero plan: {assessment.reason}")
            if connection.plan_flagged_since is None:
                connection.plan_flagged_since = now
                outcome.flagged += 1
                _audit_per_customer(
                    deps, session, "plan.flagged", connection, stores,
                    organisation=name, plan=assessment.label, reason=assessment.reason,
                )  # fmt: skip
            return
        for store in stores:
            if _is_plan_reason(store.attention_reason):
                store.attention_reason = store.attention_since = None
        if connection.plan_flagged_since is not None:
            connection.plan_flagged_since = None
            outcome.cleared += 1
            _audit_per_customer(
                deps, session, "plan.cleared", connection, stores,
                organisation=name, plan=assessment.label,
            )  # fmt: skip


async def _linked_stores(
    session: AsyncSession, connection_ids: Iterable[int]
) -> dict[int, list[Store]]:
    """The stores actively linked to each of these connections, by connection id."""
    ids = list(connection_ids)
    by_connection: dict[int, list[Store]] = defaultdict(list)
    if not ids:
        return by_connection
    rows = await session.execute(
        select(StoreLink.connection_id, Store)
        .join(Store, StoreLink.store_id == Store.id)
        .where(StoreLink.connection_id.in_(ids), StoreLink.active.is_(True))
        .order_by(Store.customer_id, Store.code)
        .with_for_update(of=Store, key_share=True)
    )
    for connection_id, store in rows:
        by_connection[connection_id].append(store)
    return by_connection


def _set_attention(store: Store, reason: str, now: datetime, *, same_kind: _Kind) -> None:
    """Give the store this reason; since when is kept while the problem is the same kind."""
    if store.attention_reason == reason and store.attention_since is not None:
        return
    if not (same_kind(store.attention_reason) and store.attention_since is not None):
        store.attention_since = now
    store.attention_reason = reason


def _audit_per_customer(
    deps: Dependencies,
    session: AsyncSession,
    action: str,
    connection: XeroConnection,
    stores: list[Store],
    **detail: Any,
) -> None:
    """One audit event per customer whose stores it concerns (one without a customer if none)."""
    by_customer: dict[int | None, list[str]] = defaultdict(list)
    for store in stores:
        by_customer[store.customer_id].append(store.code)
    for customer_id, codes in (by_customer or {None: []}).items():
        audit(
            deps,
            session,
            actor=ACTOR,
            action=action,
            customer_id=customer_id,
            connection_id=connection.id,
            stores=codes,
            **detail,
        )


def gone_reason(tenant_name: str) -> str:
    """What a store shows when its organisation was disconnected on Xero's side."""
    return _naming(
        tenant_name, f" {_GONE_MARK}: send the customer a new consent link to reconnect."
    )


def plan_reason(tenant_name: str, assessment: PlanAssessment, *, by_plan: bool) -> str:
    """What a store shows when its organisation cannot be integrated: `by_plan` when its
    plan is the reason, else the policy's own reason (a demo company, a partner edition)."""
    if by_plan:
        return _naming(
            tenant_name, f" is on Xero {assessment.label}, which cannot be integrated: {_PLAN_MARK}"
        )
    return _naming(tenant_name, f" cannot be integrated ({assessment.reason}): {_PLAN_MARK}")


def _naming(tenant_name: str, rest: str) -> str:
    """`tenant_name` + `rest` within the column's length, shortening the name if need be."""
    room = _REASON_LENGTH - len(rest)
    if len(tenant_name) > room:
        tenant_name = tenant_name[: room - 1] + "…"
    return tenant_name + rest


def _is_gone_reason(reason: str | None) -> bool:
    return reason is not None and _GONE_MARK in reason


def _is_plan_reason(reason: str | None) -> bool:
    return reason is not None and reason.endswith(_PLAN_MARK)
