"""What the POS→Xero sync service reads: stores with their Xero organisation and posting
set-up, and a fresh access token for a store's organisation.

The bot holds the only copy of each token set (Xero rotates refresh tokens, so a second copy
breaks the first), so the service never sees a refresh token: it asks here, and a token
about to expire is refreshed once however many callers and replicas ask together.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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

from . import grants
from ._session import transaction
from .dependencies import Dependencies
from .errors import Conflict, InvalidRequest, NotFound

PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
MAX_STORE_ID = 2**31 - 1
"""Store ids are 32-bit integers: a cursor past them is not one this API gave."""


class SyncStatus(StrEnum):
    """A store as the sync service sees it: `ready` is a connected store marked ready."""

    READY = "ready"
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"
    NOT_CONNECTED = "not_connected"
    CONSENT_SENT = "consent_sent"
    AWAITING_CHOICE = "awaiting_choice"


@dataclass(frozen=True, kw_only=True)
class SyncStore:
    group: str
    store_code: str
    store_name: str
    customer_name: str
    status: SyncStatus
    ready_at: datetime | None
    tenant_id: str | None
    organisation_name: str | None
    setup: dict[str, Any] | None
    """The posting set-up in the organisation the store is linked to, or None."""
    attention: str | None
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class StorePage:
    stores: tuple[SyncStore, ...]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class StoreToken:
    access_token: str = field(repr=False)
    tenant_id: str
    expires_at: datetime


class NotConnected(Conflict):
    """The store has no organisation to get a token for; `status` says where it stands."""

    def __init__(self, message: str, *, status: SyncStatus) -> None:
        super().__init__(message)
        self.status = status


async def stores(
    deps: Dependencies,
    *,
    status: SyncStatus | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> StorePage:
    """Every store (or those in `status`), in a stable order, a page at a time."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be 1 to {MAX_PAGE_SIZE}.", field="limit")
    after = _decode_cursor(cursor) if cursor else 0
    query = _store_rows().where(Store.id > after).order_by(Store.id).limit(limit + 1)
    if status == SyncStatus.READY:
        query = query.where(Store.ready_at.is_not(None))
    elif status is not None:
        query = query.where(Store.status == StoreStatus(status.value), Store.ready_at.is_(None))
    async with transaction(deps, read_only=True) as session:
        rows = (await session.execute(query)).all()
    page = [_sync_store(*row) for row in rows[:limit]]
    more = len(rows) > limit
    return StorePage(
        stores=tuple(page),
        next_cursor=_encode_cursor(rows[limit - 1][0].id) if more else None,
    )


async def store(deps: Dependencies, *, group: str, store_code: str) -> SyncStore:
    """One store, named as Cloud POS names it: the customer's licence group and its code."""
    async with transaction(deps, read_only=True) as session:
        row = (await session.execute(_store_rows().where(*_named(group, store_code)))).first()
    if row is None:
        raise NotFound(_unknown(group, store_code))
    return _sync_store(*row)


async def token(deps: Dependencies, *, group: str, store_code: str) -> StoreToken:
    """An access token for the store's organisation, valid for at least five more minutes.

    NotConnected when the store has no organisation or its authorisation was lost;
    ExternalServiceError (retryable) when Xero cannot be reached to refresh it.
    """
    async with transaction(deps, read_only=True) as session:
        found, connection, grant = await linked_store(session, group=group, store_code=store_code)
    tenant_id = connection.tenant_id if connection else None
    grant_id, grant_status = (grant.id, grant.status) if grant else (None, None)
    if found.status == StoreStatus.NEEDS_RECONNECT or grant_status not in (
        None,
        GrantStatus.ACTIVE,
    ):
        raise NotConnected(
            f"Store {found.code} needs reconnecting to Xero: the customer must consent again "
            "(the helpdesk sends a new link). No token until then.",
            status=SyncStatus.NEEDS_RECONNECT,
        )
    if found.status != StoreStatus.CONNECTED or grant_id is None or tenant_id is None:
        status = SyncStatus(found.status.value)
        if status == SyncStatus.CONNECTED:
            status = SyncStatus.NOT_CONNECTED  # its organisation went meanwhile
        raise NotConnected(
            f"Store {found.code} is not connected to Xero ({status.value}).", status=status
        )
    fresh = await grants.fresh_access_token(deps, grant_id=grant_id)
    return StoreToken(access_token=fresh.value, tenant_id=tenant_id, expires_at=fresh.expires_at)


async def linked_store(
    session: AsyncSession, *, group: str, store_code: str
) -> tuple[Store, XeroConnection | None, XeroGrant | None]:
    """The store Cloud POS names so, with the organisation and grant of its active link."""
    row = (
        await session.execute(
            select(Store, XeroConnection, XeroGrant)
            .join(Customer, Customer.id == Store.customer_id)
            .outerjoin(StoreLink, (StoreLink.store_id == Store.id) & StoreLink.active.is_(True))
            .outerjoin(XeroConnection, XeroConnection.id == StoreLink.connection_id)
            .outerjoin(XeroGrant, XeroGrant.id == XeroConnection.grant_id)
            .where(*_named(group, store_code))
        )
    ).first()
    if row is None:
        raise NotFound(_unknown(group, store_code))
    store, connection, grant = row
    return store, connection, grant


def sync_status(store: Store) -> SyncStatus:
    """How the sync service sees the store: `ready` once marked ready, else its state."""
    return SyncStatus.READY if store.ready_at else SyncStatus(store.status.value)


def _store_rows() -> Any:
    active = aliased(StoreLink)
    return (
        select(Store, Customer, XeroConnection, StoreSetup)
        .join(Customer, Customer.id == Store.customer_id)
        .outerjoin(active, (active.store_id == Store.id) & active.active.is_(True))
        .outerjoin(XeroConnection, XeroConnection.id == active.connection_id)
        .outerjoin(StoreSetup, StoreSetup.store_id == Store.id)
    )


def _named(group: str, store_code: str) -> tuple[Any, ...]:
    return (Customer.cloudpos_group == group, Store.code == store_code)


def _unknown(group: str, store_code: str) -> str:
    return f"There is no store {store_code[:100]!r} in the Cloud POS group {group[:200]!r}."


def _sync_store(
    store: Store,
    customer: Customer,
    connection: XeroConnection | None,
    setup: StoreSetup | None,
) -> SyncStore:
    status = sync_status(store)
    linked = (
        connection is not None and setup is not None and setup.tenant_id == connection.tenant_id
    )
    changes = [store.status_changed_at, store.ready_at, setup.updated_at if setup else None]
    return SyncStore(
        group=customer.cloudpos_group,
        store_code=store.code,
        store_name=store.name,
        customer_name=customer.name,
        status=status,
        ready_at=store.ready_at,
        tenant_id=connection.tenant_id if connection else None,
        organisation_name=connection.tenant_name if connection else None,
        setup=_setup(setup) if linked and setup else None,
        attention=store.attention_reason,
        updated_at=max(when for when in changes if when is not None),
    )


def _setup(setup: StoreSetup) -> dict[str, Any]:
    tracking = None
    if setup.tracking_category_id and setup.tracking_option_id:
        tracking = {
            "category_id": setup.tracking_category_id,
            "option_id": setup.tracking_option_id,
        }
    return {
        "sales_account_id": setup.sales_account_id,
        "tax_type": setup.tax_type,
        "rounding_account_id": setup.rounding_account_id,
        "gift_card_account_id": setup.gift_card_account_id,
        "tracking": tracking,
        "contact": {"id": setup.contact_id, "name": setup.contact_name}
        if setup.contact_id
        else None,
        "invoice_status": setup.invoice_status,
        "start_date": setup.start_date.isoformat() if setup.start_date else None,
        "payments": [
            {
                "tender_id": tender_id,
                "tender_name": entry.get("name"),
                "account_id": entry.get("account_id"),
            }
            for tender_id, entry in sorted((setup.payments or {}).items())
            if isinstance(entry, dict)
        ],
        "updated_at": setup.updated_at,
        "validated_at": setup.validated_at,
    }


def _encode_cursor(store_id: int) -> str:
    return base64.urlsafe_b64encode(f"s{store_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        digits = text[1:]
        if not text.startswith("s") or not (digits.isascii() and digits.isdigit()):
            raise ValueError(cursor)
        if len(digits) > 10 or int(digits) > MAX_STORE_ID:
            raise ValueError(cursor)  # no store has such an id; PostgreSQL would refuse it
        return int(digits)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest(
            "cursor is not one this API gave: pass next_cursor from the previous page as it "
            "is, or leave it out to start again.",
            field="cursor",
        ) from None
