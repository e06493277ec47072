"""A store's link to an organisation: found, made and ended, each in one place."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import ConsentRequest, Store, StoreLink, StoreStatus, XeroConnection

from ._outbox import StoreEvent, record
from ._session import audit
from .dependencies import Dependencies
from .errors import Conflict


async def active_links(session: AsyncSession, store_ids: list[int]) -> dict[int, StoreLink]:
    """The stores' current links, with their organisations, by store id."""
    links = await session.scalars(
        select(StoreLink)
        .where(StoreLink.store_id.in_(store_ids), StoreLink.active.is_(True))
        .options(selectinload(StoreLink.connection))
    )
    return {link.store_id: link for link in links}


def link_store(
    deps: Dependencies,
    session: AsyncSession,
    store: Store,
    connection: XeroConnection,
    current: StoreLink | None,
    *,
    request: ConsentRequest,
    actor: str,
    replace: bool,
) -> None:
    """Link `store` to `connection`; a `current` link elsewhere ends only with `replace`."""
    if current is not None and current.connection_id == connection.id:
        return
    if current is not None:
        if not replace:
            raise Conflict(
                f"{store.name} ({store.code}) is already connected to "
                f"{current.connection.tenant_name}. Confirm again choosing to replace that "
                "connection to move it."
            )
        end_link(deps, current, actor=actor)
        audit(
            deps,
            session,
            actor=actor,
            action="store.unlinked",
            customer_id=store.customer_id,
            store_id=store.id,
            connection_id=current.connection_id,
            organisation=current.connection.tenant_name,
            reason="replaced",
        )
        if store.status == StoreStatus.CONNECTED:
            # It stays connected, so no change of status tells the sync service it moved.
            record(deps, store, StoreEvent.RECONNECTED, tenant_id=connection.tenant_id)
    session.add(
        StoreLink(
            store_id=store.id,
            connection_id=connection.id,
            consent_request_id=request.id,
            active=True,
            linked_by=actor,
            linked_at=deps.clock(),
        )
    )
    audit(
        deps,
        session,
        actor=actor,
        action="store.linked",
        customer_id=store.customer_id,
        store_id=store.id,
        connection_id=connection.id,
        organisation=connection.tenant_name,
    )


def end_link(deps: Dependencies, link: StoreLink, *, actor: str) -> None:
    link.active = False
    link.unlinked_at = deps.clock()
    link.unlinked_by = actor
