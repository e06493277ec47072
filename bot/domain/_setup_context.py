"""Where a store's posting set-up happens: its customer, its organisation and the grant that
reaches it, read in one statement, and the checks every set-up operation starts with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Customer,
    GrantStatus,
    Store,
    StoreLink,
    StoreSetup,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

from ._posting_rules import steps_done
from .dependencies import Dependencies
from .errors import Conflict, MissingScopes, NotFound
from .ports import Licence
from .posting_values import Checklist

NEEDED_SCOPES = (
    ("accounting.settings.read", "accounting.settings"),
    ("accounting.contacts.read", "accounting.contacts"),
)
"""Each scope posting set-up reads with, and the wider scope that also covers it."""


@dataclass(frozen=True)
class SetupContext:
    customer_id: int
    customer_name: str
    licence: str
    api_key_encrypted: str = field(repr=False)
    store_id: int
    store_code: str
    store_name: str
    status: StoreStatus
    ready_at: datetime | None
    tenant_id: str
    tenant_name: str
    connection_id: int
    grant_id: int
    grant_status: GrantStatus
    scopes: frozenset[str]
    linked_on: date
    plan_eligible: bool


async def setup_context(
    deps: Dependencies, session: AsyncSession, *, customer_id: int, store_code: str
) -> SetupContext:
    """The store and where it is connected; a store that is not connected cannot be set up."""
    row = (
        await session.execute(
            select(Store, Customer, XeroConnection, XeroGrant, StoreLink.linked_at)
            .join(Store.customer)
            .outerjoin(StoreLink, (StoreLink.store_id == Store.id) & StoreLink.active.is_(True))
            .outerjoin(XeroConnection, XeroConnection.id == StoreLink.connection_id)
            .outerjoin(XeroGrant, XeroGrant.id == XeroConnection.grant_id)
            .where(
                Store.customer_id == customer_id,
                func.lower(Store.code) == store_code.strip().lower(),
            )
        )
    ).first()
    if row is None:
        raise NotFound(
            f"Customer #{customer_id} has no store {store_code.strip()[:100]!r}. "
            "Check the code on the customer's card."
        )
    store, customer, connection, grant, linked_at = row
    if connection is None or grant is None or store.status != StoreStatus.CONNECTED:
        raise Conflict(
            f"{store.name} ({store.code}) is not connected to Xero, so its posting cannot be "
            "set up yet. Send the customer a consent link first."
        )
    assessment = deps.plans.assess_organisation(connection)
    return SetupContext(
        customer_id=customer.id,
        customer_name=customer.name,
        licence=customer.licence,
        api_key_encrypted=customer.api_key_encrypted,
        store_id=store.id,
        store_code=store.code,
        store_name=store.name,
        status=store.status,
        ready_at=store.ready_at,
        tenant_id=connection.tenant_id,
        tenant_name=connection.tenant_name,
        connection_id=connection.id,
        grant_id=grant.id,
        grant_status=grant.status,
        scopes=frozenset(grant.scopes.split()),
        linked_on=linked_at.date(),
        plan_eligible=assessment.eligible and connection.plan_flagged_since is None,
    )


def require_scopes(context: SetupContext) -> None:
    """Consents given before the bot asked for contacts lack that scope: say so, not 403."""
    missing = tuple(scope for scope, wider in NEEDED_SCOPES if not {scope, wider} & context.scopes)
    if missing:
        raise MissingScopes(
            f"{context.customer_name}'s Xero consent does not allow reading "
            f"{' or '.join(missing)}, which posting set-up needs. Send them a new consent "
            f"link for {context.store_code} and set up its posting once they have approved.",
            store_code=context.store_code,
            scopes=missing,
        )


def checklist_of(context: SetupContext, setup: StoreSetup | None) -> Checklist:
    return Checklist(
        pro_plus=Licence(group="", licence=context.licence).is_pro_plus,
        connected=context.status == StoreStatus.CONNECTED
        and context.grant_status == GrantStatus.ACTIVE,
        plan_eligible=context.plan_eligible,
        steps_done=steps_done(setup) if setup and setup.tenant_id == context.tenant_id else 0,
        ready=context.ready_at is not None,
    )
