"""Consent links as agents handle them: issuing, withdrawing, sharing, reporting back."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from storage.models import (
    ConsentRequest,
    ConsentStatus,
    StoreStatus,
)

from ._queries import OPEN_CONSENT_STATUSES, customer_row, token_hash
from ._requests import (
    chosen_stores,
    close_request,
    consent_view,
    overlapping_requests,
    request_by_id,
    revoke_overlapping,
    set_store_status,
)
from ._session import audit, transaction
from .dependencies import Dependencies
from .errors import InvalidRequest
from .results import ConsentLink, ConsentView, OpenLink

TOKEN_BYTES = 32


async def issue(
    deps: Dependencies,
    *,
    customer_id: int,
    store_codes: Sequence[str] | None,
    actor: str,
    slack_channel_id: str | None = None,
    slack_message_ts: str | None = None,
    lifetime: timedelta | None = None,
) -> ConsentLink:
    """Create the link a customer opens to connect these stores (None: every store).

    A store is in at most one open link: an older open link that covers any of these
    stores is revoked, and the result says which.
    """
    lifetime = lifetime or deps.consent_link_lifetime
    if lifetime <= timedelta(0):
        raise InvalidRequest("A consent link must live for a positive time.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with transaction(deps) as session:
        customer = await customer_row(deps, session, customer_id, lock=True)
        stores = await chosen_stores(deps, session, customer, store_codes)
        replaced = await revoke_overlapping(deps, session, customer, stores, actor=actor)
        request = ConsentRequest(
            token_hash=token_hash(token),
            customer_id=customer.id,
            issued_by=actor,
            slack_channel_id=slack_channel_id,
            slack_message_ts=slack_message_ts,
            status=ConsentStatus.ISSUED,
            created_at=deps.clock(),
            expires_at=deps.clock() + lifetime,
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
    async with transaction(deps, read_only=True) as session:
        return await consent_view(
            deps, session, await request_by_id(deps, session, consent_request_id)
        )


async def report_to(
    deps: Dependencies, *, consent_request_id: int, channel_id: str, message_ts: str
) -> None:
    """Remember the Slack message whose thread hears how the customer gets on."""
    async with transaction(deps) as session:
        request = await request_by_id(deps, session, consent_request_id)
        request.slack_channel_id = channel_id
        request.slack_message_ts = message_ts


async def open_links(
    deps: Dependencies, *, customer_id: int, store_codes: Sequence[str] | None
) -> tuple[OpenLink, ...]:
    """The open links a new link for these stores (None: every store) would withdraw,
    so that an agent confirms before a link the customer may hold stops working."""
    async with transaction(deps, read_only=True) as session:
        customer = await customer_row(deps, session, customer_id)
        stores = await chosen_stores(deps, session, customer, store_codes)
        requests = await overlapping_requests(deps, session, customer, stores, lock=False)
        return tuple(
            OpenLink(
                consent_request_id=request.id,
                store_codes=tuple(store.code for store in request.stores),
                issued_by=request.issued_by,
                expires_at=request.expires_at,
                slack_channel_id=request.slack_channel_id,
                slack_message_ts=request.slack_message_ts,
                slack_choice_ts=request.slack_choice_ts,
            )
            for request in requests
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
