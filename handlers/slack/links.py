"""Issuing a consent link from Slack: the record in the channel, the link for the agent."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from slack_sdk.errors import SlackApiError

from bot.domain import links
from bot.domain.errors import LinksStillOpen
from bot.domain.results import ConsentLink, CustomerCandidate, OpenLink
from handlers.slack import ids
from handlers.slack.blocks.common import mention, message, section
from handlers.slack.blocks.links import link_for_agent, link_record, replace_confirmation
from handlers.slack.blocks.waiting import waiting_links

from .notifier import replace_choice
from .runtime import Turn
from .threads import Thread

log = logging.getLogger(__name__)

WAITING = "waiting for the customer"


async def send_link(
    turn: Turn,
    *,
    customer_id: int,
    store_codes: Sequence[str] | None,
    replacing: Collection[int] | None = None,
    in_place: bool | None = None,
) -> None:
    """Issue a link, post its record (the thread progress goes to) and show the link privately.

    A link the customer may already hold is withdrawn only once an agent has confirmed it by
    its number (`replacing`); its record in the channel then says what replaced it. The
    record goes to the channel, or to the agent's DM when the bot cannot post there; it
    never contains the link. The agent's answer replaces the message they clicked
    (`in_place`, by default when replacing): never a message in a channel, which everyone
    would see.
    """
    in_place = replacing is not None if in_place is None else in_place
    try:
        link = await links.issue(
            turn.deps,
            customer_id=customer_id,
            store_codes=store_codes,
            actor=turn.actor,
            withdraw=replacing or (),
        )
    except LinksStillOpen as still_open:
        confirmation = replace_confirmation(
            customer_id=customer_id, store_codes=store_codes, open_links=still_open.open_links
        )
        await turn.reply(confirmation, replace=in_place)
        return
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
        thread = Thread(channel=posted["channel"], ts=posted["ts"])
        await links.report_to(
            turn.deps, consent_request_id=link.consent_request_id, place=thread.reference
        )
    for old in link.replaced:
        await _mark_replaced(turn, old, by=link)
    sealed = turn.runtime.vault.encrypt(ids.encode(r=link.consent_request_id, u=link.url))
    agent_copy = link_for_agent(link, sealed_link=sealed, can_revoke=turn.is_admin)
    await turn.reply(agent_copy, replace=in_place)


async def _mark_replaced(turn: Turn, old: OpenLink, *, by: ConsentLink) -> None:
    """The old link's record must not go on saying it waits for the customer."""
    thread = Thread.of(old.report_to)
    if thread is None:
        return
    record = link_record(
        consent_request_id=old.consent_request_id,
        customer_name=by.customer_name,
        store_codes=old.store_codes,
        issued_by=old.issued_by,
        state=f"replaced by link #{by.consent_request_id} ({mention(turn.actor)})",
    )
    try:
        await turn.client.chat_update(channel=thread.channel, ts=thread.ts, **record.kwargs())
        replaced = (
            f":lock: Link #{old.consent_request_id} was replaced by "
            f"link #{by.consent_request_id}; choose there."
        )
        await replace_choice(turn.client, old, message(replaced, [section(replaced)]))
    except SlackApiError as error:
        log.info("cannot update the record of link #%s: %s", old.consent_request_id, error)


WAITING_SHOWN = 40
"""Links one message lists (Block Kit allows 50 blocks); the count says how many in all."""


async def show_waiting(
    turn: Turn, customer: CustomerCandidate | None, *, replace: bool = False
) -> None:
    """The links customers can still use (one customer's, or everyone's), oldest first."""
    found, total = await links.waiting(
        turn.deps, customer_id=customer.id if customer else None, limit=WAITING_SHOWN
    )
    listed = waiting_links(
        found,
        total=total,
        customer_name=customer.name if customer else None,
        can_revoke=turn.is_admin,
    )
    await turn.reply(listed, replace=replace)
