"""Reports a customer's progress in the thread of the link's record, and updates the record.

The reply asking for the organisation choice is the one message whose buttons can go
stale: its ts goes back to the domain, and the outcome replaces it.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.notify import ConsentEvent, ConsentEventKind
from bot.domain.results import ConsentView, OpenLink
from handlers.slack.blocks.common import Message
from handlers.slack.blocks.links import (
    choice_closed,
    link_record,
    progress_message,
    progress_state,
)
from handlers.slack.threads import Thread


class SlackNotifier:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def consent_changed(self, event: ConsentEvent) -> str | None:
        consent = event.consent
        thread = Thread.of(consent.report_to)
        if thread is None:
            return None
        reply = progress_message(event)
        posted = await self._client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.ts, **reply.kwargs()
        )
        record = link_record(
            consent_request_id=consent.consent_request_id,
            customer_name=consent.customer_name,
            store_codes=tuple(store.code for store in consent.stores),
            issued_by=consent.issued_by,
            state=progress_state(event),
        )
        await self._client.chat_update(channel=thread.channel, ts=thread.ts, **record.kwargs())
        if event.kind == ConsentEventKind.COMPLETED:
            await replace_choice(self._client, consent, choice_closed(consent))
        is_choice = event.kind == ConsentEventKind.AUTHORISED and any(
            option.eligible for option in consent.organisations
        )
        return str(posted["ts"]) if is_choice else None


async def replace_choice(
    client: AsyncWebClient, link: ConsentView | OpenLink, outcome: Message
) -> None:
    """The thread's organisation choice, once the link has moved on, shows only where it went."""
    thread = Thread.of(link.report_to)
    if thread and link.choice_report:
        await client.chat_update(channel=thread.channel, ts=link.choice_report, **outcome.kwargs())
