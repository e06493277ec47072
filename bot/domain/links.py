"""Consent links as agents handle them: issuing, withdrawing, sharing, reporting back."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from storage.models import (
    ConsentRequest,
    ConsentStatus,
    StoreStatus,
)

from ._queries import OPEN_CONSENT_STATUSES, customer_row, organisations_connected, token_hash
from ._requests import (
    chosen_stores,
    close_request,
    consent_view,
    open_link,
    overlapping_requests,
    request_by_id,
    withdraw_links,
)
from ._session import audit, transaction
from ._store_status import set_store_status
from .dependencies import Dependencies
from .errors import InvalidRequest, LinksStillOpen
from .results import ConsentLink, ConsentView, OpenLink
from .tiers import capacity_warning

TOKEN_BYTES = 32


async def issue(
    deps: Dependencies,
    *,
    customer_id: int,
    store_codes: Sequence[str] | None,
    actor: str,
    withdraw: Collection[int] | None = None,
    lifetime: timedelta | None = None,
) -> ConsentLink:
    """Create the link a customer opens to connect these stores (None: every store).

    A store is in at most one open link, so open links covering any of these stores are
    withdrawn, and the result says which. With `withdraw`, only the links it names may be
    (an agent confirmed them): if others are open, `LinksStillOpen` names every open link
    and nothing changes.
    """
    lifetime = lifetime or deps.consent_link_lifetime
    if lifetime <= timedelta(0):
        raise InvalidRequest("A consent link must live for a positive time.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with transaction(deps) as session:
        customer = await customer_row(deps, session, customer_id, lock=True)
        stores = await chosen_stores(deps, session, customer, store_codes)
        overlapping = await overlapping_requests(deps, session, customer, stores, lock=True)
        if withdraw is not None and {request.id for request in overlapping} - set(withdraw):
            raise LinksStillOpen(
                f"{customer.name} still has open links for these stores; "
                "confirm replacing them first.",
                open_links=tuple(
                    open_link(request, customer_name=customer.name) for request in overlapping
                ),
            )
        replaced = await withdraw_links(
            deps, session, overlapping, actor=actor, customer_name=customer.name
        )
        now = deps.clock()
        request = ConsentRequest(
            token_hash=token_hash(token),
            customer_id=customer.id,
            issued_by=actor,
            status=ConsentStatus.ISSUED,
            created_at=now,
            expires_at=now + lifetime,
            stores=stores,
        )
        session.add(request)
        for store in stores:
            if store.status not in (StoreStatus.CONNECTED, StoreStatus.NEEDS_RECONNECT):
                set_store_status(deps, store, StoreStatus.CONSENT_SENT)
        await session.flush()
        audit(
            deps,
            session,
            actor=actor,
            action="consent.issued",
            customer_id=customer.id,
            consent_request_id=request.id,
            stores=[store.code for store in stores],
            expires_at=request.expires_at.isoformat(),
        )
        return ConsentLink(
            consent_request_id=request.id,
            customer_id=customer.id,
            customer_name=customer.name,
            url=f"{deps.public_base_url}/connect/{token}",
            expires_at=request.expires_at,
            store_codes=tuple(store.code for store in stores),
            replaced=replaced,
            warning=capacity_warning(used=await organisations_connected(session), tier=deps.tier),
        )


async def revoke(deps: Dependencies, *, consent_request_id: int, actor: str) -> ConsentView:
    """Make a link unusable, e.g. when it was sent to the wrong person."""
    async with transaction(deps) as session:
        request = await request_by_id(deps, session, consent_request_id, lock=True)
        if request.status not in OPEN_CONSENT_STATUSES:
            raise InvalidRequest(
                f"Link #{request.id} is already {request.status.value}; nothing to revoke."
            )
        close_request(deps, request, ConsentStatus.REVOKED, actor=actor)
        audit(
            deps,
            session,
            actor=actor,
            action="consent.revoked",
            customer_id=request.customer_id,
            consent_request_id=request.id,
        )
        return await consent_view(deps, session, request)


async def get(deps: Dependencies, *, consent_request_id: int) -> ConsentView:
    """A link by its number, whatever its state: for the buttons on its messages."""
    async with transaction(deps, read_only=True) as session:
        return await consent_view(
            deps, session, await request_by_id(deps, session, consent_request_id)
        )


async def report_to(deps: Dependencies, *, consent_request_id: int, place: str) -> None:
    """Remember where the front door hears how the customer gets on (its own reference)."""
    async with transaction(deps) as session:
        await session.execute(
            update(ConsentRequest)
            .where(ConsentRequest.id == consent_request_id)
            .values(report_to=place)
        )


async def note_shared(
    deps: Dependencies, *, consent_request_id: int, channel_id: str, actor: str
) -> str:
    """Audit that an agent posted the link where others can see it; returns the customer."""
    async with transaction(deps) as session:
        request = await request_by_id(deps, session, consent_request_id)
        if request.status not in OPEN_CONSENT_STATUSES or request.expires_at <= deps.clock():
            raise InvalidRequest(
                f"Link #{request.id} can no longer be used; issue a new one to share."
            )
        audit(
            deps,
            session,
            actor=actor,
            action="consent.link_shared",
            customer_id=request.customer_id,
            consent_request_id=request.id,
            channel=channel_id,
        )
        return request.customer.name


async def waiting(
    deps: Dependencies, *, customer_id: int | None = None, limit: int = 40
) -> tuple[tuple[OpenLink, ...], int]:
    """Links the customer can still use, oldest first (one customer's, or everyone's), at
    most `limit` of them, and how many there are in all: what waits for customers."""
    usable = (
        ConsentRequest.status.in_(OPEN_CONSENT_STATUSES),
        ConsentRequest.expires_at > deps.clock(),
        *(() if customer_id is None else (ConsentRequest.customer_id == customer_id,)),
    )
    async with transaction(deps, read_only=True) as session:
        if customer_id is not None:
            await customer_row(deps, session, customer_id)
        total = await session.scalar(select(func.count()).where(*usable))
        requests = await session.scalars(
            select(ConsentRequest)
            .where(*usable)
            .order_by(ConsentRequest.created_at, ConsentRequest.id)
            .limit(limit)
            .options(selectinload(ConsentRequest.stores), selectinload(ConsentRequest.customer))
        )
        found = tuple(
            open_link(request, customer_name=request.customer.name) for request in requests
        )
    return found, total or 0
