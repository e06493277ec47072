"""What every operation does around its work: one transaction, an audit event, a report."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import engine
from storage.models import AuditEvent, ConsentRequest

from .dependencies import Dependencies
from .notify import ConsentEvent, ConsentEventKind
from .results import ConsentView

log = logging.getLogger(__name__)


@asynccontextmanager
async def transaction(
    deps: Dependencies, *, read_only: bool = False
) -> AsyncIterator[AsyncSession]:
    async with engine.transaction(deps.sessions, read_only=read_only) as session:
        yield session


def audit(
    deps: Dependencies,
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    customer_id: int | None = None,
    store_id: int | None = None,
    connection_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            occurred_at=deps.clock(),
            actor=actor,
            action=action,
            customer_id=customer_id,
            store_id=store_id,
            connection_id=connection_id,
            detail=detail,
        )
    )


async def notify(
    deps: Dependencies, kind: ConsentEventKind, view: ConsentView, detail: str = ""
) -> None:
    """Report progress back; a failing notifier never undoes what the customer did.

    The message asking for the organisation choice is remembered, for the outcome to
    replace it."""
    try:
        choice = await deps.notifier.consent_changed(ConsentEvent(kind, view, detail))
    except Exception:
        log.exception("could not report consent link #%s %s", view.consent_request_id, kind)
        return
    if choice:
        async with transaction(deps) as session:
            await session.execute(
                update(ConsentRequest)
                .where(ConsentRequest.id == view.consent_request_id)
                .values(choice_report=choice)
            )
