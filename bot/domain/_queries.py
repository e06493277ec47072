"""Reads shared by the features: a customer, its stores and their state in a few statements."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence, Sized
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ConnectionStatus,
    ConsentRequest,
    ConsentStatus,
    Customer,
    GrantStatus,
    Store,
    StoreLink,
    StoreSetup,
    StoreStatus,
    XeroConnection,
    XeroGrant,
    consent_request_stores,
)

from ._posting_rules import steps_done
from .dependencies import Dependencies
from .errors import NotFound
from .plans import PlanPolicy
from .ports import Licence
from .posting_values import Checklist
from .results import CustomerView, StoreView


async def customer_row(
    deps: Dependencies, session: AsyncSession, customer_id: int, *, lock: bool = False
) -> Customer:
    """The customer; with `lock`, its row is locked (PostgreSQL) so operations that decide
    from all of its links and stores (issuing a link) run one at a time per customer."""
    customer = await session.get(
        Customer, customer_id, with_for_update=lock or None, populate_existing=lock
    )
    if customer is None:
        raise NotFound(f"There is no customer #{customer_id}. Look customers up by name instead.")
    return customer


async def store_rows(deps: Dependencies, session: AsyncSession, customer_id: int) -> list[Store]:
    result = await session.scalars(
        select(Store).where(Store.customer_id == customer_id).order_by(Store.code)
    )
    return list(result)


async def read_snapshot(deps: Dependencies, session: AsyncSession, customer_id: int) -> Snapshot:
    """A customer's stores, active links and open consents in three statements."""
    stores = await session.execute(
        select(
            Store.id,
            Store.code,
            Store.name,
            Store.status,
            Store.active_in_cloudpos,
            Store.ready_at,
            Customer.licence,
            StoreSetup,
        )
        .join(Store.customer)
        .outerjoin(StoreSetup, StoreSetup.store_id == Store.id)
        .where(Store.customer_id == customer_id)
        .order_by(Store.code)
    )
    links = await session.execute(
        select(
            StoreLink.store_id,
            StoreLink.linked_at,
            XeroConnection.id.label("connection_id"),
            XeroConnection.tenant_id,
            XeroConnection.tenant_name,
            XeroConnection.tenant_type,
            XeroConnection.plan_class,
            XeroConnection.edition,
            XeroConnection.is_demo_company,
            XeroConnection.plan_flagged_since,
            XeroGrant.status.label("grant_status"),
            XeroGrant.user_name,
            XeroGrant.user_email,
        )
        .join(StoreLink.store)
        .join(StoreLink.connection)
        .join(XeroConnection.grant)
        .where(Store.customer_id == customer_id, StoreLink.active.is_(True))
    )
    open_consent_store_ids = await session.scalars(
        select(consent_request_stores.c.store_id)
        .join(ConsentRequest)
        .where(
            ConsentRequest.customer_id == customer_id,
            ConsentRequest.status.in_(OPEN_CONSENT_STATUSES),
            ConsentRequest.expires_at > deps.clock(),
        )
    )
    return Snapshot(
        stores=[StoreRow(*row) for row in stores],
        links={row.store_id: ActiveLink(**row._mapping) for row in links},
        open_consent_store_ids=frozenset(open_consent_store_ids),
        plans=deps.plans,
    )


async def load_customer_view(
    deps: Dependencies, session: AsyncSession, customer: Customer
) -> CustomerView:
    return customer_view(customer, await read_snapshot(deps, session, customer.id))


def customer_view(customer: Customer, snapshot: Snapshot) -> CustomerView:
    return CustomerView(
        id=customer.id,
        name=customer.name,
        cloudpos_group=customer.cloudpos_group,
        licence=customer.licence,
        stores=tuple(snapshot.view(store) for store in snapshot.stores),
    )


OPEN_CONSENT_STATUSES = (ConsentStatus.ISSUED, ConsentStatus.AUTHORISED)


WAITING_FOR_CONSENT = (StoreStatus.CONSENT_SENT, StoreStatus.AWAITING_CHOICE)


@dataclass(frozen=True)
class ActiveLink:
    """A store's active link with what summaries show of its organisation."""

    store_id: int
    linked_at: datetime
    connection_id: int
    tenant_id: str
    tenant_name: str
    tenant_type: str
    plan_class: str
    edition: str
    is_demo_company: bool
    plan_flagged_since: datetime | None
    grant_status: GrantStatus
    user_name: str
    user_email: str


@dataclass(frozen=True)
class StoreRow:
    id: int
    code: str
    name: str
    status: StoreStatus
    active_in_cloudpos: bool
    ready_at: datetime | None
    licence: str
    setup: StoreSetup | None


@dataclass(frozen=True)
class Snapshot:
    """What the views of a customer's stores need, read as plain columns: a customer with
    thousands of stores should not cost thousands of ORM objects."""

    stores: list[StoreRow]
    links: dict[int, ActiveLink]
    open_consent_store_ids: frozenset[int]
    plans: PlanPolicy

    def view(self, store: StoreRow) -> StoreView:
        """The store as people should see it: a lapsed consent link no longer counts."""
        link = self.links.get(store.id)
        status = store.status
        if status in WAITING_FOR_CONSENT and store.id not in self.open_consent_store_ids:
            status = StoreStatus.CONNECTED if link else StoreStatus.NOT_CONNECTED
        return StoreView(
            id=store.id,
            code=store.code,
            name=store.name,
            status=status,
            active_in_cloudpos=store.active_in_cloudpos,
            organisation_name=link.tenant_name if link else None,
            checklist=self._checklist(store, status, link),
            setup_tenant_id=store.setup.tenant_id if store.setup else None,
        )

    def _checklist(
        self, store: StoreRow, status: StoreStatus, link: ActiveLink | None
    ) -> Checklist | None:
        if link is None and store.setup is None:
            return None
        eligible = (
            link is not None
            and link.plan_flagged_since is None
            and (self.plans.assess_organisation(link).eligible)
        )
        same_organisation = link is not None and (
            store.setup is not None and store.setup.tenant_id == link.tenant_id
        )
        return Checklist(
            pro_plus=Licence(group="", licence=store.licence).is_pro_plus,
            connected=status == StoreStatus.CONNECTED
            and link is not None
            and link.grant_status == GrantStatus.ACTIVE,
            plan_eligible=eligible,
            steps_done=steps_done(store.setup) if same_organisation else 0,
            ready=store.ready_at is not None,
        )


def token_hash(token: str) -> str:
    """The only form in which a consent token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def linked_stores_of_grant(grant_id: int) -> Select[Store]:
    """Stores linked to any active organisation of a Xero grant."""
    return (
        select(Store)
        .join(StoreLink, StoreLink.store_id == Store.id)
        .join(XeroConnection, StoreLink.connection_id == XeroConnection.id)
        .where(
            XeroConnection.grant_id == grant_id,
            XeroConnection.status == ConnectionStatus.ACTIVE,
            StoreLink.active.is_(True),
        )
    )


def listing(items: Sequence[str]) -> str:
    return ", ".join(items)


def is_are(items: Sized) -> str:
    return "is" if len(items) == 1 else "are"


async def organisations_connected(session: AsyncSession) -> int:
    """Organisations the app has connected, as Xero counts them against the tier's limit."""
    count = await session.scalar(
        select(func.count(func.distinct(XeroConnection.tenant_id))).where(
            XeroConnection.status == ConnectionStatus.ACTIVE,
            XeroConnection.gone_since.is_(None),
        )
    )
    return count or 0
