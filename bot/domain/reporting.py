"""Where links are reported back: the Slack thread, shared links, refused access."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.errors import InvalidRequest

from .base import OPEN_CONSENT_STATUSES
from .consent import ConsentOperations
from .results import OpenLink


class ReportingOperations(ConsentOperations):
    async def attach_slack_thread(
        self, *, consent_request_id: int, channel_id: str, message_ts: str
    ) -> None:
        """Remember the Slack message whose thread hears how the customer gets on."""
        async with self._transaction() as session:
            request = await self._request_by_id(session, consent_request_id)
            request.slack_channel_id = channel_id
            request.slack_message_ts = message_ts

    async def open_links(
        self, *, customer_id: int, store_codes: Sequence[str] | None
    ) -> tuple[OpenLink, ...]:
        """The open links a new link for these stores (None: every store) would withdraw,
        so that an agent confirms before a link the customer may hold stops working."""
        async with self._transaction(read_only=True) as session:
            customer = await self._customer(session, customer_id)
            stores = await self._chosen_stores(session, customer, store_codes)
            requests = await self._overlapping_requests(session, customer, stores, lock=False)
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

    async def note_link_shared(
        self, *, consent_request_id: int, channel_id: str, actor: str
    ) -> str:
        """Audit that an agent posted the link where others can see it; returns the customer."""
        async with self._transaction() as session:
            request = await self._request_by_id(session, consent_request_id)
            if request.status not in OPEN_CONSENT_STATUSES or request.expires_at <= self._now():
                raise InvalidRequest(
                    f"Link #{request.id} can no longer be used; issue a new one to share."
                )
            self._audit(
                session,
                actor=actor,
                action="consent.link_shared",
                customer_id=request.customer_id,
                consent_request_id=request.id,
                channel=channel_id,
            )
            return request.customer.name

    async def record_access_refused(self, *, actor: str, attempted: str) -> None:
        """Someone outside the helpdesk tried to use the bot: kept in the audit log."""
        async with self._transaction() as session:
            self._audit(session, actor=actor, action="access.refused", attempted=attempted[:200])
