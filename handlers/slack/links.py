"""Issuing a consent link from Slack: the record in the channel, the link for the agent."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError

from handlers.slack import ids
from handlers.slack.blocks.links import link_for_agent, link_record

from .runtime import Turn

log = logging.getLogger(__name__)

WAITING = "waiting for the customer"


async def send_link(turn: Turn, *, customer_id: int, store_codes: Sequence[str] | None) -> None:
    """Issue a link, post its record (the thread progress goes to) and show the link privately.

    The record goes to the channel, or to the agent's DM when the bot cannot post there;
    it never contains the link.
    """
    link = await turn.service.issue_consent_link(
        customer_id=customer_id, store_codes=store_codes, actor=turn.actor
    )
    record = link_record(
        consent_request_id=link.consent_request_id,
        customer_name=link.customer_name,
        store_codes=link.store_codes,
        issued_by=turn.actor,
        state=WAITING,
    )
    posted = None
    for channel in dict.fromkeys([turn.channel_id, turn.user_id]):
        try:
            posted = await turn.client.chat_postMessage(channel=channel, **record.kwargs())
            break
        except SlackApiError as error:
            log.info("cannot post link record in %s: %s", channel, error.response.get("error"))
    if posted is not None:
        await turn.service.attach_slack_thread(
            consent_request_id=link.consent_request_id,
            channel_id=posted["channel"],
            message_ts=posted["ts"],
        )
    sealed = turn.runtime.vault.encrypt(ids.encode(r=link.consent_request_id, u=link.url))
    await turn.reply(link_for_agent(link, sealed_link=sealed, can_revoke=turn.is_admin))
