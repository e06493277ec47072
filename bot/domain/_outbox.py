"""The outbox: each change the sync service must hear of becomes a `SyncEvent` row in the
transaction that makes the change, so an event exists exactly when its change committed."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from storage.models import Customer, Store, SyncEvent

from .dependencies import Dependencies

MAX_TEXT = 300


class StoreEvent(StrEnum):
    READY = "store.ready"
    SETUP_CHANGED = "store.setup_changed"
    NOT_READY = "store.not_ready"
    DISCONNECTED = "store.disconnected"
    NEEDS_RECONNECT = "store.needs_reconnect"
    RECONNECTED = "store.reconnected"


def record(deps: Dependencies, store: Store, kind: StoreEvent, **data: Any) -> None:
    """Add the event to the store's session (the caller's transaction)."""
    session = object_session(store)
    if session is None:
        raise RuntimeError("a store event needs the store's session")
    event = SyncEvent(
        kind=kind.value,
        occurred_at=deps.clock(),
        customer_id=store.customer_id,
        store_id=store.id,
        store_code=store.code,
        data={key: _bounded(value) for key, value in data.items()},
    )
    # The customer may not be loaded; the INSERT reads its group itself.
    event.cloudpos_group = (
        select(Customer.cloudpos_group).where(Customer.id == store.customer_id).scalar_subquery()
    )
    session.add(event)


def _bounded(value: Any) -> Any:
    return value[:MAX_TEXT] if isinstance(value, str) else value
