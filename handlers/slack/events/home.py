"""The App Home: the helpdesk's overview of what needs attention, one line for anyone else.

Slack sends `app_home_opened` each time someone opens the app (its Home or Messages tab);
Bolt acknowledges the event itself, and the Home view is published after. Opening the
Home tab is not an attempt to use the bot, so `only_helpdesk` lets outsiders through for
this event alone, marked as not helpdesk (`HELPDESK_KEY`): they get the one line, and no
refusal is audited.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import attention
from handlers.slack.blocks.attention import home_view, outsider_home_view
from handlers.slack.blocks.common import section
from handlers.slack.errors import describe
from handlers.slack.runtime import RUNTIME_KEY, Runtime

log = logging.getLogger(__name__)

HOME_OPENED = "app_home_opened"
HELPDESK_KEY = "is_helpdesk"
"""Set by `only_helpdesk` in the context of every request it lets through."""
HOME_SHOWN = 120
"""Broken stores read for one Home view: more than its 100 blocks hold when each is another
customer's; the view counts what it leaves out."""


def opens_home(body: dict[str, Any]) -> bool:
    """Whether a request is Slack telling the app that someone opened its Home or Messages."""
    event = body.get("event")
    return (
        body.get("type") == "event_callback"
        and isinstance(event, dict)
        and event.get("type") == HOME_OPENED
    )


async def home_opened(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    """Publish the user's Home view: the overview for the helpdesk, one line for others.

    Nothing is raised to Bolt (the event is acknowledged already): a failure is logged
    with a reference, which the Home then shows in place of the overview."""
    user_id = str(event.get("user") or "")
    if event.get("tab") != "home" or not user_id:
        return  # the Messages tab: nothing to publish
    runtime: Runtime = context[RUNTIME_KEY]
    try:
        if context.get(HELPDESK_KEY):
            async with runtime.slot(calls_out=False):
                found = await attention.overview(runtime.deps(), limit=HOME_SHOWN)
            view = home_view(found)
        else:
            view = outsider_home_view()
    except Exception as error:
        view = {"type": "home", "blocks": [section(describe(error)).to_dict()]}
    try:
        await client.views_publish(user_id=user_id, view=view)
    except Exception:
        log.warning("could not publish the App Home of %s", user_id, exc_info=True)
