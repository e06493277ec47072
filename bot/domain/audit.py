"""The audit trail as agents read it, and refusals recorded in it."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEvent, Store

from ._queries import customer_row
from ._session import audit, transaction
from .dependencies import Dependencies
from .results import AuditEntry


async def history(deps: Dependencies, *, customer_id: int, limit: int = 20) -> list[AuditEntry]:
    """The latest things done to a customer, newest first."""
    async with transaction(deps, read_only=True) as session:
        await customer_row(deps, session, customer_id)
        rows = await session.execute(
            select(AuditEvent, Store.code)
            .outerjoin(Store, Store.id == AuditEvent.store_id)
            .where(AuditEvent.customer_id == customer_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
        return [
            AuditEntry(
                occurred_at=event.occurred_at,
                actor=event.actor,
                action=event.action,
                detail=dict(event.detail),
                store_code=store_code,
            )
            for event, store_code in rows.all()
        ]


async def record_refusal(deps: Dependencies, *, actor: str, attempted: str) -> None:
    """Someone outside the helpdesk tried to use the bot: kept in the audit log."""
    async with transaction(deps) as session:
        audit(deps, session, actor=actor, action="access.refused", attempted=attempted[:200])
