"""What every Slack listener needs, and one request's worth of it: the `Turn`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.web.async_client import AsyncWebClient

from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.domain.errors import ExternalServiceError

from .access import AccessPolicy
from .blocks import Message
from .errors import reported

log = logging.getLogger(__name__)

RUNTIME_KEY = "xero_bot_runtime"
SLACK_ACTOR = "slack:"
READS_AT_ONCE = 4
CALLS_AT_ONCE = 4
CALL_SECONDS = 45.0
"""How long work that waits on Xero or Cloud POS may take before the agent is told so."""


@dataclass(frozen=True)
class Runtime:
    deps: Callable[[], Dependencies]
    access: AccessPolicy
    vault: Vault
    reads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(READS_AT_ONCE))
    """Work after the ack runs a few at a time: a burst queues instead of starving the acks
    of new requests and the database pool."""
    calls: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CALLS_AT_ONCE))
    """Work that waits on Xero or Cloud POS has slots of its own, so a slow backend never
    holds up an agent who only reads."""
    pending: set[asyncio.Task[None]] = field(default_factory=set, compare=False, hash=False)
    """Work started by `after_ack`, held until it ends (the loop keeps only weak references)."""

    def after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` once the ack is on its way: what a listener does after `ack()`, for
        a middleware, whose answer Bolt sends only when it returns. `work` reports its own
        errors; anything else it raises is logged."""
        task = asyncio.ensure_future(work)
        self.pending.add(task)
        task.add_done_callback(_finished)
        task.add_done_callback(self.pending.discard)

    @asynccontextmanager
    async def slot(self, *, calls_out: bool) -> AsyncIterator[None]:
        """A work slot; work that calls out is time-boxed too."""
        if not calls_out:
            async with self.reads:
                yield
            return
        limit = CALL_SECONDS
        async with self.calls:
            try:
                async with asyncio.timeout(limit):
                    yield
            except TimeoutError:
                raise ExternalServiceError(
                    f"Xero or Cloud POS took more than {limit:g} seconds, so I stopped "
                    "waiting. Check the card or the summary, then try again in a few minutes.",
                    retryable=True,
                ) from None


def _finished(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("work after an ack failed", exc_info=error)


def actor_of(user_id: str) -> str:
    """How Slack users appear in the audit log; `blocks.common.mention` turns it back."""
    return f"{SLACK_ACTOR}{user_id}"


def user_of(actor: str) -> str | None:
    """The Slack user an audit actor names, if it names one."""
    return actor.removeprefix(SLACK_ACTOR) if actor.startswith(SLACK_ACTOR) else None


@dataclass(frozen=True)
class Turn:
    """One command or click: who, where, and the ways to answer."""

    deps: Dependencies
    runtime: Runtime
    client: AsyncWebClient
    respond: AsyncRespond
    user_id: str
    channel_id: str
    is_admin: bool

    @property
    def actor(self) -> str:
        return actor_of(self.user_id)

    @classmethod
    def of(cls, context: AsyncBoltContext, respond: AsyncRespond, client: AsyncWebClient) -> Turn:
        runtime: Runtime = context[RUNTIME_KEY]
        return cls(
            deps=runtime.deps(),
            runtime=runtime,
            client=client,
            respond=respond,
            user_id=context.user_id or "",
            channel_id=context.channel_id or "",
            is_admin=bool(context.get("is_admin")),
        )

    async def reply(self, message: Message, *, replace: bool = False) -> None:
        """An answer only the agent sees (or a replacement of the message they clicked)."""
        await self.respond(response_type="ephemeral", replace_original=replace, **message.kwargs())


Handler = Callable[[Turn, dict[str, Any], dict[str, Any]], Awaitable[None]]


def acknowledged(
    handler: Handler, *, calls_out: bool = False
) -> Callable[[AsyncArgs], Awaitable[None]]:
    """A Bolt action listener that acks at once, then runs `handler(turn, action, body)` in a
    work slot (`calls_out`: it waits on Xero or Cloud POS); whatever it raises is reported
    to the agent (`errors.reported`), never to Bolt."""

    async def listener(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        turn = Turn.of(context, respond, client)
        async with turn.runtime.slot(calls_out=calls_out):
            await handler(turn, action, body)

    listener.__name__ = listener.__qualname__ = handler.__name__
    return reported(listener)
