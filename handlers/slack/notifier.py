"""Tells the helpdesk in Slack: a customer's progress in the thread of the link's record
(and the record updated), alerts in the alerts channel, reminders in the link's thread.

The reply asking for the organisation choice is the one message whose buttons can go
stale: its ts goes back to the domain, and the outcome replaces it. An alert's place goes
back to the domain too, so that it is updated in place.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.notify import (
    ConsentEvent,
    ConsentEventKind,
    LoggingNotifier,
    Reminder,
    StoresAlert,
)
from bot.domain.results import ConsentView, OpenLink
from handlers.slack.blocks.alerts import alert_message, fix_line, reminder_message
from handlers.slack.blocks.common import Message
from handlers.slack.blocks.links import (
    choice_closed,
    link_record,
    progress_message,
    progress_state,
)
from handlers.slack.runtime import user_of
from handlers.slack.threads import Thread


class SlackNotifier:
    def __init__(self, client: AsyncWebClient, *, alerts_channel: str = "") -> None:
        self._client = client
        self._alerts = alerts_channel
        self._log_only = LoggingNotifier()

    async def stores_alert(self, alert: StoresAlert) -> str | None:
        """Post the alert in the alerts channel, or update it where it is; resolved, its
        thread also says who fixed it. Without an alerts channel, it is only logged."""
        if not self._alerts:
            return await self._log_only.stores_alert(alert)
        shown = alert_message(alert)
        thread = Thread.of(alert.report)
        if thread is None:
            if alert.resolved:
                return None  # never posted: nothing to resolve
            posted = await self._client.chat_postMessage(channel=self._alerts, **shown.kwargs())
            return Thread(channel=str(posted["channel"]), ts=str(posted["ts"])).reference
        await self._client.chat_update(channel=thread.channel, ts=thread.ts, **shown.kwargs())
        if alert.resolved:
            line = fix_line(alert.fixed_by)
            await self._client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.ts, text=f":white_check_mark: {line}"
            )
        return thread.reference

    async def link_reminder(self, reminder: Reminder) -> None:
        """In the link's thread; to the issuer directly when the link has no record."""
        reminded = reminder_message(reminder)
        thread = Thread.of(reminder.link.report_to)
        issuer = user_of(reminder.link.issued_by)
        if thread is not None:
            await self._client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.ts, **reminded.kwargs()
            )
        elif issuer is not None:
            await self._client.chat_postMessage(channel=issuer, **reminded.kwargs())
        else:
            await self._log_only.link_reminder(reminder)

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
