"""Organisation groups: the summary of stores per organisation, and disconnecting one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    ConnectionStatus,
    GrantStatus,
    StoreLink,
    StoreStatus,
    XeroConnection,
)

from . import grants
from ._grant_revoke import revoke_if_unused
from ._queries import ActiveLink, Snapshot, customer_row, customer_view, read_snapshot
from ._session import audit, transaction
from ._store_links import end_link
from ._store_status import set_store_status
from .dependencies import Dependencies
from .errors import (
    Ambiguous,
    ExternalServiceError,
    NotFound,
    XeroConnectionGone,
    XeroGrantRevoked,
)
from .results import Disconnection, OrganisationGroup, Summary


async def summary(deps: Dependencies, *, customer_id: int) -> Summary:
    """The customer's stores grouped by organisation, then the stores not connected.

    A fixed number of statements whatever the number of stores and organisations.
    """
    async with transaction(deps, read_only=True) as session:
        customer = await customer_row(deps, session, customer_id)
        snapshot = await read_snapshot(deps, session, customer_id)
    return Summary(
        customer=customer_view(customer, snapshot),
        groups=_groups(deps, snapshot),
        not_connected=tuple(
            snapshot.view(store) for store in snapshot.stores if store.id not in snapshot.links
        ),
    )


async def find_group(deps: Dependencies, *, customer_id: int, name: str) -> OrganisationGroup:
    """The customer's organisation group an agent named, matched case-insensitively."""
    groups = (await summary(deps, customer_id=customer_id)).groups
    wanted = " ".join(name.split()).casefold()
    exact = [group for group in groups if group.tenant_name.casefold() == wanted]
    matches = exact or [group for group in groups if wanted in group.tenant_name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Ambiguous(
            f"{len(matches)} organisations match {name!r}; use the full name.",
            candidates=matches,
        )
    names = ", ".join(group.tenant_name for group in groups) or "none"
    raise NotFound(f"No organisation of this customer matches {name!r}. Connected: {names}.")


async def disconnect(
    deps: Dependencies, *, customer_id: int, tenant_id: str, actor: str
) -> Disconnection:
    """Disconnect every store of this customer linked to this Xero organisation, through
    whichever Xero users' connections reach it.

    Xero first: each of the bot's connections to the organisation is removed at Xero, and
    if Xero does not confirm, nothing changes here and the error says so. A refresh
    token is revoked when its Xero user has no other organisation connected. If stores of
    another customer use the organisation, the connections are kept at Xero for them and
    only this customer's stores are unlinked.
    """
    async with transaction(deps, read_only=True) as session:
        customer = await customer_row(deps, session, customer_id)
        connections = list(
            await session.scalars(
                select(XeroConnection)
                .where(XeroConnection.tenant_id == tenant_id)
                .order_by(XeroConnection.id)
            )
        )
        links = await _group_links(deps, session, [c.id for c in connections])
        if not any(link.store.customer_id == customer_id for link in links):
            raise NotFound(
                f"That organisation has no stores of {customer.name} connected; "
                "there is nothing to disconnect. Check the summary."
            )
        shared = any(link.store.customer_id != customer_id for link in links)
        linked = {link.connection_id for link in links}
        tenant_name = next(c.tenant_name for c in connections if c.id in linked)
        targets = [
            (c.id, c.grant_id, c.xero_connection_id)
            for c in connections
            if c.status == ConnectionStatus.ACTIVE
        ]

    removed_at_xero = token_revoked = False
    if not shared:
        for connection_id, grant_id, xero_connection_id in targets:
            removed, grant_usable = await _remove_at_xero(
                deps, customer_id, connection_id, grant_id, xero_connection_id, tenant_name, actor
            )
            removed_at_xero = removed_at_xero or removed
            if grant_usable:
                revoked = await revoke_if_unused(
                    deps, grant_id, except_connection_id=connection_id, customer_id=customer_id
                )
                token_revoked = token_revoked or revoked

    async with transaction(deps) as session:
        target_ids = [connection_id for connection_id, _, _ in targets]
        if not shared:
            for connection in await session.scalars(
                select(XeroConnection).where(XeroConnection.id.in_(target_ids))
            ):
                connection.status = ConnectionStatus.DISCONNECTED
        links = [
            link
            for link in await _group_links(deps, session, list(linked))
            if link.store.customer_id == customer_id
        ]
        for link in links:
            end_link(deps, link, actor=actor)
            set_store_status(deps, link.store, StoreStatus.DISCONNECTED)
        store_codes = tuple(sorted(link.store.code for link in links))
        audit(
            deps,
            session,
            actor=actor,
            action="organisation.disconnected",
            customer_id=customer_id,
            organisation=tenant_name,
            tenant_id=tenant_id,
            connections=target_ids,
            stores=list(store_codes),
            removed_at_xero=removed_at_xero,
            token_revoked=token_revoked,
            kept_for_other_customers=shared,
        )
    return Disconnection(
        tenant_name=tenant_name,
        store_codes=store_codes,
        removed_at_xero=removed_at_xero,
        token_revoked=token_revoked,
        kept_for_other_customers=shared,
    )


async def _remove_at_xero(
    deps: Dependencies,
    customer_id: int,
    connection_id: int,
    grant_id: int,
    xero_connection_id: str,
    tenant_name: str,
    actor: str,
) -> tuple[bool, bool]:
    """(removed by this call, grant still usable). Raises if Xero did not confirm."""
    try:
        access_token = await grants.access_token(deps, grant_id=grant_id)
        return (
            await deps.xero.delete_connection(
                access_token=access_token, connection_id=xero_connection_id
            ),
            True,
        )
    except XeroGrantRevoked:
        return False, False
    except XeroConnectionGone:
        return False, True
    except ExternalServiceError as error:
        async with transaction(deps) as session:
            audit(
                deps,
                session,
                actor=actor,
                action="organisation.disconnect_failed",
                customer_id=customer_id,
                connection_id=connection_id,
                organisation=tenant_name,
                error=error.message,
            )
        raise ExternalServiceError(
            f"Xero did not confirm the disconnect, so {tenant_name} is still connected and "
            f"nothing was changed. {error.message}",
            retryable=error.retryable,
        ) from error


async def _group_links(
    deps: Dependencies, session: AsyncSession, connection_ids: list[int]
) -> list[StoreLink]:
    return list(
        await session.scalars(
            select(StoreLink)
            .where(StoreLink.connection_id.in_(connection_ids), StoreLink.active.is_(True))
            .options(selectinload(StoreLink.store))
        )
    )


def _groups(deps: Dependencies, snapshot: Snapshot) -> tuple[OrganisationGroup, ...]:
    """One group per Xero organisation, whichever Xero users' grants reach it."""
    by_tenant: dict[str, list[ActiveLink]] = defaultdict(list)
    for link in snapshot.links.values():
        by_tenant[link.tenant_id].append(link)
    stores = {store.id: store for store in snapshot.stores}
    groups = []
    for tenant_id, links in by_tenant.items():
        first = min(links, key=lambda link: link.linked_at)
        assessment = deps.plans.assess_organisation(first)
        people = dict.fromkeys(
            link.user_name or link.user_email or "a Xero user"
            for link in sorted(links, key=lambda link: link.linked_at)
        )
        groups.append(
            OrganisationGroup(
                tenant_id=tenant_id,
                tenant_name=first.tenant_name,
                plan_label=assessment.label,
                plan_recognised=assessment.recognised,
                eligible=assessment.eligible,
                grant_status=_worst(link.grant_status for link in links),
                connected_by=" and ".join(people),
                linked_at=first.linked_at,
                stores=tuple(
                    sorted(
                        (snapshot.view(stores[link.store_id]) for link in links),
                        key=lambda view: view.code,
                    )
                ),
            )
        )
    return tuple(sorted(groups, key=lambda group: group.tenant_name.casefold()))


_HEALTH_ORDER = (GrantStatus.NEEDS_RECONNECT, GrantStatus.REVOKED, GrantStatus.ACTIVE)


def _worst(statuses: Iterable[GrantStatus]) -> GrantStatus:
    """A group is as healthy as its least healthy grant: one broken grant breaks stores."""
    present = set(statuses)
    return next(status for status in _HEALTH_ORDER if status in present)
