"""Where links are reported back: the Slack thread, shared links, refused access."""

from __future__ import annotations

from bot.errors import InvalidRequest

from .base import OPEN_CONSENT_STATUSES
from .consent import ConsentOperations


class ReportingOperations(ConsentOperations):
    async def attach_slack_thread(
        self, *, consent_request_id: int, channel_id: str, message_ts: str
    ) -> None:
        """Remember the Slack message whose thread hears how the customer gets on."""
        async with self._transaction() as session:
            request = await self._request_by_id(session, consent_request_id)
            request.slack_channel_id = channel_id
            request.slack_message_ts = message_ts

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
