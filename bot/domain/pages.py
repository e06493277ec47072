"""What the customer pages after Xero may show, and to whom.

Holding the link is not enough to see which organisations a consent authorised, to choose
one, or to read the outcome: that takes the browser that went to Xero and came back (its
cookie's hash is kept on the OAuth state it used). The outcome page shows only the link's
own stores, and only for a day after the choice was confirmed: a used link must not stay a
window on the customer's connections.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.domain.errors import ConsentLinkUnusable, DomainError
from storage.models import ConsentRequest, ConsentStatus, OAuthState

from .base import token_hash
from .results import ConsentView, Summary
from .unconnected import LinkOutcome, UnconnectedOperations

OUTCOME_PAGE_LIFETIME = timedelta(hours=24)
CONSENTED = (ConsentStatus.AUTHORISED, ConsentStatus.COMPLETED)


class OtherBrowser(DomainError):
    """The page belongs to the browser that consented at Xero, and this is another one."""


OTHER_BROWSER = (
    "This page can only be opened in the browser where Connect to Xero was pressed and "
    "Xero was allowed. Open your link in that browser, or press Connect to Xero again here."
)


class CustomerPageOperations(UnconnectedOperations):
    async def open_choice(self, *, token: str, browser_id: str) -> ConsentView:
        """The link and the organisations its consent authorised, for the consenting browser.

        A link not yet consented to shows no organisation, so any browser may see it (the
        page then sends it back to the start).
        """
        async with self._transaction(read_only=True) as session:
            request = await self._usable_request(session, token)
            if request.status != ConsentStatus.ISSUED:
                await self._require_consenting_browser(session, request, browser_id)
            return await self._consent_view(session, request)

    async def check_consenting_browser(self, *, token: str, browser_id: str) -> None:
        """Before a choice is confirmed: once the link was consented to, only that browser.

        Everything else about the link (unknown, expired, used up) is for the confirmation
        itself to judge, so repeating a confirmation still answers as it did.
        """
        async with self._transaction(read_only=True) as session:
            request = await session.scalar(
                select(ConsentRequest).where(ConsentRequest.token_hash == token_hash(token))
            )
            if request is not None and request.status in CONSENTED:
                await self._require_consenting_browser(session, request, browser_id)

    async def finished_link(self, *, token: str, browser_id: str) -> LinkOutcome:
        """What the link achieved, its own stores only, for a day after it was completed."""
        async with self._transaction(read_only=True) as session:
            request = await session.scalar(
                select(ConsentRequest)
                .where(ConsentRequest.token_hash == token_hash(token))
                .options(selectinload(ConsentRequest.stores))
            )
            if request is None or request.status != ConsentStatus.COMPLETED:
                request = await self._usable_request(session, token)
            elif (
                request.finished_at is None
                or request.finished_at + OUTCOME_PAGE_LIFETIME <= self._now()
            ):
                raise ConsentLinkUnusable(
                    "This link has been used, and what it connected is no longer shown here. "
                    "Your helpdesk contact can tell you which stores are connected.",
                    reason="completed",
                )
            await self._require_consenting_browser(session, request, browser_id)
            customer_id, store_ids = request.customer_id, [store.id for store in request.stores]
        summary = _only_stores(await self.summary(customer_id=customer_id), set(store_ids))
        by_id = {store.id: store for store in summary.customer.stores}
        return LinkOutcome(summary=summary, stores=tuple(by_id[i] for i in store_ids))

    async def _require_consenting_browser(
        self, session: AsyncSession, request: ConsentRequest, browser_id: str
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
