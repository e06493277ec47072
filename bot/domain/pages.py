"""What the customer's pages may show after consenting, and only to the consenting browser."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConsentRequest, ConsentStatus, OAuthState

from . import organisations
from ._queries import token_hash
from ._requests import consent_view, request_by_token, usable_request
from ._session import transaction
from .dependencies import Dependencies
from .errors import ConsentLinkUnusable, OtherBrowser
from .results import ConsentView, LinkOutcome, Summary

OUTCOME_PAGE_LIFETIME = timedelta(hours=24)


CONSENTED = (ConsentStatus.AUTHORISED, ConsentStatus.COMPLETED)


OTHER_BROWSER = (
    "This page can only be opened in the browser where Connect to Xero was pressed and "
    "Xero was allowed. Open your link in that browser, or press Connect to Xero again here."
)


async def open_choice(deps: Dependencies, *, token: str, browser_id: str) -> ConsentView:
    """The link and the organisations its consent authorised, for the consenting browser.

    A link not yet consented to shows no organisation, so any browser may see it (the
    page then sends it back to the start).
    """
    async with transaction(deps, read_only=True) as session:
        request = await usable_request(deps, session, token)
        if request.status != ConsentStatus.ISSUED:
            await _require_consenting_browser(deps, session, request, browser_id)
        return await consent_view(deps, session, request)


async def check_browser(deps: Dependencies, *, token: str, browser_id: str) -> None:
    """Before a choice is confirmed: once the link was consented to, only that browser.

    Everything else about the link (unknown, expired, used up) is for the confirmation
    itself to judge, so repeating a confirmation still answers as it did.
    """
    async with transaction(deps, read_only=True) as session:
        request = await request_by_token(session, token)
        if request is not None and request.status in CONSENTED:
            await _require_consenting_browser(deps, session, request, browser_id)


async def finished(deps: Dependencies, *, token: str, browser_id: str) -> LinkOutcome:
    """What the link achieved, its own stores only, for a day after it was completed."""
    async with transaction(deps, read_only=True) as session:
        request = await usable_request(deps, session, token, completed_too=True)
        if request.status == ConsentStatus.COMPLETED and (
            request.finished_at is None
            or request.finished_at + OUTCOME_PAGE_LIFETIME <= deps.clock()
        ):
            raise ConsentLinkUnusable(
                "This link has been used, and what it connected is no longer shown here. "
                "Your helpdesk contact can tell you which stores are connected.",
                reason="completed",
            )
        await _require_consenting_browser(deps, session, request, browser_id)
        customer_id, store_ids = request.customer_id, [store.id for store in request.stores]
    summary = _only_stores(
        await organisations.summary(deps, customer_id=customer_id), set(store_ids)
    )
    by_id = {store.id: store for store in summary.customer.stores}
    return LinkOutcome(summary=summary, stores=tuple(by_id[i] for i in store_ids))


async def _require_consenting_browser(
    deps: Dependencies, session: AsyncSession, request: ConsentRequest, browser_id: str
) -> None:
    """A browser that brought a `state` of this link back from Xero, or OtherBrowser."""
    if not browser_id:
        raise OtherBrowser(OTHER_BROWSER)
    found = await session.scalar(
        select(OAuthState.id)
        .where(
            OAuthState.consent_request_id == request.id,
            OAuthState.browser_hash == token_hash(browser_id),
            OAuthState.used_at.is_not(None),
        )
        .limit(1)
    )
    if found is None:
        raise OtherBrowser(OTHER_BROWSER)


def _only_stores(summary: Summary, store_ids: set[int]) -> Summary:
    """The summary cut down to these stores: other stores of the customer are not shown."""
    groups = tuple(
        replace(group, stores=stores)
        for group in summary.groups
        if (stores := tuple(store for store in group.stores if store.id in store_ids))
    )
    customer = replace(
        summary.customer,
        stores=tuple(store for store in summary.customer.stores if store.id in store_ids),
    )
    return replace(
        summary,
        customer=customer,
        groups=groups,
        not_connected=tuple(store for store in summary.not_connected if store.id in store_ids),
    )
