"""How a store's state changes: the one function every operation calls, so readiness, the
helpdesk's attention and the sync service's events follow every change alike."""

from __future__ import annotations

from storage.models import Store, StoreStatus

from ._outbox import StoreEvent, record
from ._readiness import stop_being_ready
from .dependencies import Dependencies

NO_LONGER_AUTHORISED = (
    "Xero no longer accepts the authorisation: the customer must connect again with a new link."
)
"""The reason a store needs reconnecting when nothing more precise is known."""


_NOT_LINKED = (StoreStatus.NOT_CONNECTED, StoreStatus.DISCONNECTED, StoreStatus.NEEDS_RECONNECT)
_STATE_WORDS = {
    StoreStatus.NOT_CONNECTED: "no longer connected to Xero",
    StoreStatus.DISCONNECTED: "disconnected from Xero",
    StoreStatus.NEEDS_RECONNECT: "needs reconnecting to Xero",
}


def set_store_status(deps: Dependencies, store: Store, status: StoreStatus) -> None:
    """The one way a store's state changes. Connected again, it needs no attention any more;
    needing reconnection, it says why (unless a more precise reason is already there)."""
    if store.status == status:
        return
    if status in _NOT_LINKED:
        stop_being_ready(deps, store, reason=_STATE_WORDS[status])
    store.status = status
    store.status_changed_at = deps.clock()
    if status == StoreStatus.CONNECTED:
        store.attention_reason = store.attention_since = None
        if store.first_connected_at is None:
            store.first_connected_at = deps.clock()
        else:
            record(deps, store, StoreEvent.RECONNECTED)
    elif status == StoreStatus.NEEDS_RECONNECT:
        if store.attention_reason is None:
            store.attention_reason = NO_LONGER_AUTHORISED
            store.attention_since = deps.clock()
        record(deps, store, StoreEvent.NEEDS_RECONNECT, reason=store.attention_reason)
    elif status == StoreStatus.DISCONNECTED:
        record(deps, store, StoreEvent.DISCONNECTED)
