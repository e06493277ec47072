"""The buttons on alerts and reminders, which sit in channels everyone reads: every answer
goes only to whoever clicked, and never replaces the alert or the reminder."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain import alerts, links, organisations
from handlers.slack import ids
from handlers.slack.blocks.common import Message
from handlers.slack.blocks.links import link_state
from handlers.slack.blocks.summary import summary_message
from handlers.slack.links import send_link
from handlers.slack.runtime import Turn, acknowledged


def register(app: AsyncApp) -> None:
    app.action(ids.ALERT_RECONNECT)(acknowledged(send_reconnect_link))
    app.action(ids.ALERT_SUMMARY)(acknowledged(show_summary))
    app.action(ids.FRESH_LINK)(acknowledged(send_fresh_link))


async def send_reconnect_link(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    """A link for exactly the customer's stores that need reconnecting now."""
    customer_id = ids.int_field(ids.decode(action.get("value")), "c")
    codes = await alerts.reconnect_codes(turn.deps, customer_id=customer_id)
    if not codes:
        await turn.reply(
            Message(
                ":white_check_mark: No store of this customer needs reconnecting any more, "
                "so no link was issued. The alert says what is left."
            )
        )
        return
    await send_link(turn, customer_id=customer_id, store_codes=codes, in_place=False)


async def show_summary(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    customer_id = ids.int_field(ids.decode(action.get("value")), "c")
    summary = await organisations.summary(turn.deps, customer_id=customer_id)
    await turn.reply(summary_message(summary, can_disconnect=turn.is_admin))


async def send_fresh_link(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    """A new link for the reminded link's stores, which withdraws it: the agent clicked a
    button that says so."""
    request_id = ids.int_field(ids.decode(action.get("value")), "r")
    current = await links.get(turn.deps, consent_request_id=request_id)
    if not current.usable:
        await turn.reply(Message(f":lock: {link_state(current)} No fresh link was issued."))
        return
    await send_link(
        turn,
        customer_id=current.customer_id,
        store_codes=[store.code for store in current.stores],
        replacing=[request_id],
        in_place=False,
    )
