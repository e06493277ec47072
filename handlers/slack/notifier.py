"""Reports a customer's progress in the thread of the link's record, and updates the record."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.notify import ConsentEvent
from handlers.slack.blocks.links import link_record, progress_message, progress_state


class SlackNotifier:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def consent_changed(self, event: ConsentEvent) -> None:
        consent = event.consent
        if not (consent.slack_channel_id and consent.slack_message_ts):
            return
        reply = progress_message(event)
        await self._client.chat_postMessage(
            channel=consent.slack_channel_id, thread_ts=consent.slack_message_ts, **reply.kwargs()
        )
        record = link_record(
            consent_request_id=consent.consent_request_id,
            customer_name=consent.customer_name,
            store_codes=tuple(store.code for store in consent.stores),
            issued_by=consent.issued_by,
            state=progress_state(event),
        )
        await self._client.chat_update(
            channel=consent.slack_channel_id, ts=consent.slack_message_ts, **record.kwargs()
        )
