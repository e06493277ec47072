"""Buttons and selects in the bot's messages."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack import ids
from handlers.slack.errors import reported

from . import alerts, links, organisations, posting, stores


@reported
async def acknowledge_only(ack: AsyncAck) -> None:
    """Selects whose value is read when the button next to them is pressed."""
    await ack()


def register(app: AsyncApp) -> None:
    stores.register(app)
    links.register(app)
    organisations.register(app)
    alerts.register(app)
    posting.register(app)
    for action_id in (ids.STORE_PICKER, ids.ORGANISATION_CHOICE):
        app.action(action_id)(acknowledge_only)
