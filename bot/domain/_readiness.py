"""How a store stops being ready for sync, and what its set-up becomes when its link changes.

A store is ready only while every step of its checklist holds, so whatever breaks a step
(a disconnection, a plan Xero no longer allows, a choice Xero no longer accepts) calls
`stop_being_ready` in the same transaction as the change, and the audit says why.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import object_session

from storage.models import AuditEvent, Store, StoreSetup

from ._outbox import StoreEvent, record
from .dependencies import Dependencies

SYSTEM = "system"
MAX_REASON = 300
ANOTHER_ORGANISATION = "connected to another Xero organisation"


def stop_being_ready(deps: Dependencies, store: Store, *, reason: str, actor: str = SYSTEM) -> bool:
    """Clear the store's readiness (audited "store.not_ready"); False if it was not ready."""
    if store.ready_at is None:
        return False
    store.ready_at = None
    store.ready_by = None
    session = object_session(store)
    if session is not None:
        session.add(_event(deps, store, "store.not_ready", reason=reason, actor=actor))
        record(deps, store, StoreEvent.NOT_READY, reason=reason)
    return True


async def keep_or_clear_setup(
    deps: Dependencies, session: AsyncSession, store: Store, *, tenant_id: str, actor: str
) -> None:
    """The store is now linked to `tenant_id`: its set-up is kept for the same organisation
    (to be validated again) and cleared for another one, whose accounts it cannot name."""
    setup = await session.get(StoreSetup, store.id)
    if setup is None:
        return
    if setup.tenant_id == tenant_id:
        setup.validated_at = None
        return
    stop_being_ready(deps, store, reason=ANOTHER_ORGANISATION, actor=actor)
    await session.delete(setup)
    session.add(_event(deps, store, "setup.cleared", reason=ANOTHER_ORGANISATION, actor=actor))
    record(deps, store, StoreEvent.SETUP_CHANGED, reason=f"cleared: {ANOTHER_ORGANISATION}")


def _event(deps: Dependencies, store: Store, action: str, *, reason: str, actor: str) -> AuditEvent:
    return AuditEvent(
        occurred_at=deps.clock(),
        actor=actor,
        action=action,
        customer_id=store.customer_id,
        store_id=store.id,
        detail={"store": store.code, "reason": reason[:MAX_REASON]},
    )
