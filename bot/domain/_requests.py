"""Consent links as rows: finding them, the views of them, and changing their state."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    ConnectionStatus,
    ConsentRequest,
    ConsentStatus,
    Customer,
    Store,
    StoreStatus,
    XeroConnection,
)

from ._queries import (
    OPEN_CONSENT_STATUSES,
    WAITING_FOR_CONSENT,
    is_are,
    listing,
    read_snapshot,
    store_rows,
    token_hash,
)
from ._session import audit, transaction
from ._store_status import set_store_status
from .dependencies import Dependencies
from .errors import ConsentLinkUnusable, InvalidRequest, NotFound
from .results import ConsentView, OpenLink, OrganisationOption

ASK_FOR_NEW_LINK = "Ask your helpdesk contact for a new link."


async def record_outcome(
    deps: Dependencies, *, token: str, outcome: ConsentStatus, actor: str, reason: str = ""
) -> ConsentView:
    """Audit a cancel or a failure at Xero without closing the link, so it can be retried."""
    if outcome not in (ConsentStatus.CANCELLED, ConsentStatus.FAILED):
        raise ValueError(f"not an outcome: {outcome}")
    async with transaction(deps) as session:
        request = await usable_request(deps, session, token)
        audit(
            deps,
            session,
            actor=actor,
            action=f"consent.{outcome.value}",
            customer_id=request.customer_id,
            consent_request_id=request.id,
            reason=reason,
        )
        return await consent_view(deps, session, request)


async def request_by_token(
    session: AsyncSession, token: str, *, lock: bool = False
) -> ConsentRequest | None:
    """The link of `token`, in any state: the one lookup by token. With `lock`, its row is
    locked (PostgreSQL) and read afresh, for an operation that changes the link."""
    digest = token_hash(token)
    query = (
        select(ConsentRequest)
        .where(ConsentRequest.token_hash == digest)
        .options(selectinload(ConsentRequest.stores), selectinload(ConsentRequest.customer))
    )
    if lock:
        query = query.with_for_update(of=ConsentRequest).execution_options(populate_existing=True)
    request = await session.scalar(query)
    if request is None or not hmac.compare_digest(request.token_hash, digest):
        return None
    return request


async def usable_request(
    deps: Dependencies,
    session: AsyncSession,
    token: str,
    *,
    lock: bool = False,
    completed_too: bool = False,
) -> ConsentRequest:
    """The open link of `token` (`completed_too`: or the completed one), else
    `ConsentLinkUnusable` saying why, in words for the customer."""
    request = await request_by_token(session, token, lock=lock)
    if request is None:
        raise ConsentLinkUnusable(f"This link is not valid. {ASK_FOR_NEW_LINK}", reason="unknown")
    if completed_too and request.status == ConsentStatus.COMPLETED:
        return request
    if request.status == ConsentStatus.COMPLETED:
        raise ConsentLinkUnusable(
            "This link has already been used to connect your stores. "
            f"To change the connection, {ASK_FOR_NEW_LINK.lower()}",
            reason="completed",
        )
    if request.status == ConsentStatus.REVOKED:
        raise ConsentLinkUnusable(
            f"This link has been withdrawn. {ASK_FOR_NEW_LINK}", reason="revoked"
        )
    if request.expires_at <= deps.clock():
        raise ConsentLinkUnusable(f"This link has expired. {ASK_FOR_NEW_LINK}", reason="expired")
    return request


async def request_by_id(
    deps: Dependencies, session: AsyncSession, consent_request_id: int, *, lock: bool = False
) -> ConsentRequest:
    request = await session.get(
        ConsentRequest,
        consent_request_id,
        options=[selectinload(ConsentRequest.stores), selectinload(ConsentRequest.customer)],
        with_for_update={"of": ConsentRequest} if lock else None,
        populate_existing=lock,
    )
    if request is None:
        raise NotFound(f"There is no consent link #{consent_request_id}.")
    return request


async def chosen_stores(
    deps: Dependencies, session: AsyncSession, customer: Customer, store_codes: Sequence[str] | None
) -> list[Store]:
    stores = await store_rows(deps, session, customer.id)
    if store_codes is None:
        chosen = [store for store in stores if store.active_in_cloudpos]
        if not chosen:
            raise InvalidRequest(
                f"{customer.name} has no active Cloud POS stores. Refresh the stores first."
            )
        return chosen
    wanted = list(dict.fromkeys(code.strip() for code in store_codes if code.strip()))
    if not wanted:
        raise InvalidRequest("Choose at least one store for the link.")
    by_code = {store.code.casefold(): store for store in stores}
    unknown = [code for code in wanted if code.casefold() not in by_code]
    if unknown:
        known = ", ".join(store.code for store in stores) or "none"
        raise NotFound(
            f"{listing(unknown)} {is_are(unknown)} not among the stores of {customer.name}. "
            f"Their stores are: {known}."
        )
    chosen = [by_code[code.casefold()] for code in wanted]
    closed = [store.code for store in chosen if not store.active_in_cloudpos]
    if closed:
        raise InvalidRequest(
            f"{listing(closed)} {is_are(closed)} not active in Cloud POS; leave "
            f"{'it' if len(closed) == 1 else 'them'} out, or refresh the stores if that is "
            "out of date."
        )
    return chosen


async def withdraw_links(
    deps: Dependencies,
    session: AsyncSession,
    requests: list[ConsentRequest],
    *,
    actor: str,
    customer_name: str,
) -> tuple[OpenLink, ...]:
    """Close open links a new link replaces; what they were is returned for the reports."""
    withdrawn = tuple(open_link(request, customer_name=customer_name) for request in requests)
    for request in requests:
        close_request(deps, request, ConsentStatus.REVOKED, actor=actor)
        audit(
            deps,
            session,
            actor=actor,
            action="consent.replaced",
            customer_id=request.customer_id,
            consent_request_id=request.id,
        )
    return withdrawn


def open_link(request: ConsentRequest, *, customer_name: str) -> OpenLink:
    return OpenLink(
        consent_request_id=request.id,
        store_codes=tuple(store.code for store in request.stores),
        issued_by=request.issued_by,
        expires_at=request.expires_at,
        customer_name=customer_name,
        issued_at=request.created_at,
        report_to=request.report_to,
        choice_report=request.choice_report,
    )


async def overlapping_requests(
    deps: Dependencies,
    session: AsyncSession,
    customer: Customer,
    stores: list[Store],
    *,
    lock: bool,
) -> list[ConsentRequest]:
    """The customer's open links that cover any of `stores`, oldest first."""
    query = (
        select(ConsentRequest)
        .where(
            ConsentRequest.customer_id == customer.id,
            ConsentRequest.status.in_(OPEN_CONSENT_STATUSES),
            ConsentRequest.expires_at > deps.clock(),
        )
        .order_by(ConsentRequest.id)
        .options(selectinload(ConsentRequest.stores))
    )
    if lock:
        query = query.with_for_update(of=ConsentRequest).execution_options(populate_existing=True)
    store_ids = {store.id for store in stores}
    return [
        request
        for request in await session.scalars(query)
        if not store_ids.isdisjoint(store.id for store in request.stores)
    ]


def close_request(
    deps: Dependencies, request: ConsentRequest, status: ConsentStatus, *, actor: str
) -> None:
    request.status = status
    request.finished_at = deps.clock()
    request.finished_by = actor
    if status != ConsentStatus.COMPLETED:
        for store in request.stores:
            if store.status in WAITING_FOR_CONSENT:
                set_store_status(deps, store, StoreStatus.NOT_CONNECTED)


async def consent_view(
    deps: Dependencies, session: AsyncSession, request: ConsentRequest
) -> ConsentView:
    snapshot = await read_snapshot(deps, session, request.customer_id)
    by_id = {store.id: store for store in snapshot.stores}
    organisations: tuple[OrganisationOption, ...] = ()
    if request.grant_id is not None:
        connections = await session.scalars(
            select(XeroConnection)
            .where(
                XeroConnection.grant_id == request.grant_id,
                XeroConnection.auth_event_id == request.auth_event_id,
            )
            .order_by(XeroConnection.tenant_name)
        )
        organisations = tuple(
            organisation_option(deps, connection)
            for connection in connections
            if connection.status == ConnectionStatus.ACTIVE
        )
    return ConsentView(
        consent_request_id=request.id,
        customer_id=request.customer_id,
        customer_name=request.customer.name,
        status=request.status,
        expires_at=request.expires_at,
        stores=tuple(snapshot.view(by_id[store.id]) for store in request.stores),
        organisations=organisations,
        issued_by=request.issued_by,
        report_to=request.report_to,
        choice_report=request.choice_report,
        finished_at=request.finished_at,
        finished_by=request.finished_by,
        usable=request.status in OPEN_CONSENT_STATUSES and request.expires_at > deps.clock(),
    )


def organisation_option(deps: Dependencies, connection: XeroConnection) -> OrganisationOption:
    assessment = deps.plans.assess_organisation(connection)
    return OrganisationOption(
        connection_id=connection.id,
        tenant_name=connection.tenant_name,
        plan_label=assessment.label,
        eligible=assessment.eligible,
        reason=assessment.reason,
        tenant_id=connection.tenant_id,
    )
