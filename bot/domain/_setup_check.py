"""The connection check's look at posting set-ups: a ready store whose choices Xero no longer
accepts (an account archived, a tax rate deleted, a contact archived) stops being ready.

The stored set-up is checked as it was saved, tenders included, so Cloud POS is not asked;
Xero is asked outside any transaction and the outcome written only for set-ups nobody changed
meanwhile (`updated_at` as read).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select

from storage.models import Store, StoreLink, StoreSetup, XeroConnection

from ._catalogue import catalogue
from ._posting_rules import choices_of, problems
from ._readiness import stop_being_ready
from ._session import transaction
from .dependencies import Dependencies
from .ports import Tender, XeroContact

log = logging.getLogger(__name__)

MAX_REASON = 300


async def recheck_ready_setups(
    deps: Dependencies, *, grant_id: int, access_token: str
) -> tuple[int, int]:
    """Check the ready stores' set-ups in each organisation of the grant; (stores no longer
    ready, calls made to Xero)."""
    async with transaction(deps, read_only=True) as session:
        rows = (
            await session.execute(
                select(XeroConnection.tenant_id, XeroConnection.tenant_name, StoreSetup)
                .join(StoreLink, StoreLink.connection_id == XeroConnection.id)
                .join(Store, Store.id == StoreLink.store_id)
                .join(StoreSetup, StoreSetup.store_id == Store.id)
                .where(
                    XeroConnection.grant_id == grant_id,
                    StoreLink.active.is_(True),
                    Store.ready_at.is_not(None),
                    StoreSetup.tenant_id == XeroConnection.tenant_id,
                )
                .order_by(XeroConnection.tenant_id, Store.id)
            )
        ).all()
    by_tenant: dict[str, list[tuple[str, StoreSetup]]] = {}
    for tenant_id, tenant_name, setup in rows:
        by_tenant.setdefault(tenant_id, []).append((tenant_name, setup))
    unready = calls = 0
    for tenant_id, setups in by_tenant.items():
        verdicts, made = await _verdicts(deps, access_token, tenant_id, setups)
        calls += made
        unready += await _record(deps, verdicts)
    return unready, calls


Verdict = tuple[int, datetime, str | None]
"""(store id, the set-up's `updated_at` as checked, why it no longer holds or None)."""


async def _verdicts(
    deps: Dependencies, access_token: str, tenant_id: str, setups: list[tuple[str, StoreSetup]]
) -> tuple[list[Verdict], int]:
    books = await catalogue(deps, access_token=access_token, tenant_id=tenant_id, fresh=True)
    calls = 3
    contacts: dict[str, XeroContact | None] = {}
    for _, setup in setups:
        if setup.contact_id and setup.contact_id not in contacts:
            calls += 1
            contacts[setup.contact_id] = await deps.xero.contact(
                access_token=access_token, tenant_id=tenant_id, contact_id=setup.contact_id
            )
    verdicts: list[Verdict] = []
    for tenant_name, setup in setups:
        tenders = [
            Tender(tender_id, str(entry.get("name", "")), str(entry.get("type", "")))
            for tender_id, entry in (setup.payments or {}).items()
            if isinstance(entry, dict)
        ]
        found = problems(
            choices_of(setup),
            books,
            tenders=tenders,
            contact=contacts.get(setup.contact_id or ""),
            earliest_start=date.min,
        )
        why = None
        if found:
            why = f"its posting set-up no longer holds in {tenant_name}: " + " ".join(
                found.values()
            )
        verdicts.append((setup.store_id, setup.updated_at, why[:MAX_REASON] if why else None))
    return verdicts, calls


async def _record(deps: Dependencies, verdicts: list[Verdict]) -> int:
    unready = 0
    async with transaction(deps) as session:
        for store_id, updated_at, why in verdicts:
            store = await session.get(Store, store_id, with_for_update=True)
            setup = await session.get(StoreSetup, store_id, populate_existing=True)
            if store is None or setup is None or setup.updated_at != updated_at:
                continue
            if why is None:
                setup.validated_at = deps.clock()
            elif stop_being_ready(deps, store, reason=why):
                log.info("store %s is no longer ready: its set-up failed at Xero", store_id)
                unready += 1
    return unready
