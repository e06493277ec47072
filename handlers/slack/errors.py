"""The one place a failed Slack request becomes words for the agent, where they are looking.

Bolt's asyncio runner must never see an exception from a listener that has acknowledged:
its error path drops the ack, waits out its 3 seconds and answers Slack with a 404, and
Slack shows the agent a failure on top of our warning. So every listener runs inside
`reported`, which acknowledges if the listener did not, and answers the agent itself:
a modal is updated, a click in a thread gets an ephemeral reply in that thread, anything
else an ephemeral reply through the response URL.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError

from .blocks.common import escape
from .blocks.modals import notice_view

log = logging.getLogger(__name__)

SLACK_ERRORS = {
    "not_in_channel": "I am not in this channel. Invite me with `/invite @xero-bot`, or use a DM.",
    "channel_not_found": "I cannot post here. Invite me with `/invite @xero-bot`, or use a DM.",
    "is_archived": "This channel is archived. Run the command in another channel.",
    "expired_trigger_id": "Slack waited too long to open the form. Run the command again.",
    "trigger_exchanged": "That form was already opened. Run the command again.",
    "ratelimited": "Slack is limiting how fast I can answer. Wait a minute and try again.",
    "message_not_found": "That message is gone. Run the command again.",
}


def describe(error: BaseException) -> str:
    """What the agent reads: a domain error's own advice, Slack's refusal in words, or a
    reference id that is also in the log for anything unexpected."""
    if isinstance(error, DomainError):
        return f":warning: {escape(error.message)}"
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "unknown_error")
        log.warning("Slack refused a call: %s", code)
        advice = SLACK_ERRORS.get(code, "Try again; if it keeps happening, tell the bot's team.")
        return f":warning: Slack refused that (`{escape(code)}`). {advice}"
    reference = secrets.token_hex(4)
    log.error("Slack request failed, reference %s", reference, exc_info=error)
    return (
        f":boom: Something went wrong on our side (reference `{reference}`). "
        "Try again; if it keeps happening, give the reference to the bot's maintainers."
    )


@dataclass(frozen=True)
class Surface:
    """Where the agent who sent a request is looking, and how to reach them there."""

    client: AsyncWebClient
    respond: AsyncRespond | None
    user_id: str
    channel_id: str
    thread_ts: str | None
    view: dict[str, Any] | None

    @classmethod
    def of(
        cls,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond | None = None,
    ) -> Surface:
        container = body.get("container") or {}
        message = body.get("message") or {}
        view = body.get("view")
        return cls(
            client=client,
            respond=respond or context.respond,
            user_id=context.user_id or "",
            channel_id=context.channel_id or container.get("channel_id") or "",
            thread_ts=container.get("thread_ts") or message.get("thread_ts"),
            view=view if isinstance(view, dict) and view.get("id") else None,
        )

    def failure_view(self, text: str) -> dict[str, Any]:
        title = str(((self.view or {}).get("title") or {}).get("text") or "xero-bot")
        return notice_view(title, f"{text}\nClose this and try again.")

    async def tell(self, text: str) -> None:
        if self.view is not None:
            await self.client.views_update(view_id=self.view["id"], view=self.failure_view(text))
        elif self.thread_ts and self.channel_id and self.user_id:
            await self.client.chat_postEphemeral(
                channel=self.channel_id, user=self.user_id, thread_ts=self.thread_ts, text=text
            )
        elif self.respond is not None:
            await self.respond(text=text, response_type="ephemeral", replace_original=False)
        elif self.channel_id and self.user_id:
            await self.client.chat_postEphemeral(
                channel=self.channel_id, user=self.user_id, text=text
            )
        else:
            log.warning("no way to tell the agent about an error")


async def report(error: BaseException, surface: Surface) -> None:
    """Tell the agent what went wrong; a failure to tell them is logged, never raised."""
    text = describe(error)
    try:
        await surface.tell(text)
    except Exception:
        log.warning("could not tell the agent about an error", exc_info=True)


Listener = Callable[..., Awaitable[None]]


def reported(listener: Listener) -> Callable[[AsyncArgs], Awaitable[None]]:
    """Run a Bolt listener so that no exception reaches Bolt: acknowledge if the listener
    did not (a modal submission is answered with the error in the modal), then report."""
    wanted = set(listener.__code__.co_varnames[: listener.__code__.co_argcount])

    @functools.wraps(listener)
    async def run(args: AsyncArgs) -> None:
        try:
            await listener(**{name: getattr(args, name) for name in wanted})
        except Exception as error:
            if not await acknowledge_failure(error, args):
                await report(error, surface_of(args))

    del run.__wrapped__  # Bolt reads the signature: it must see `args`, not the listener's
    return run


def surface_of(args: AsyncArgs) -> Surface:
    return Surface.of(args.body, args.context, args.client, args.respond)


async def acknowledge_failure(error: BaseException, args: AsyncArgs) -> bool:
    """Acknowledge a failed request unless it was: a modal submission with the error in the
    modal. True when that ack told the agent already; otherwise `report` must."""
    ack: AsyncAck = args.ack
    if ack.response is not None:
        return False
    if args.body.get("type") == "view_submission":
        await ack(response_action="update", view=surface_of(args).failure_view(describe(error)))
        return True
    await ack()
    return False
