"""Submitting "Add a customer": checked with Cloud POS, errors shown on the field at fault.

Slack needs the answer to a submission within 3 seconds, but Cloud POS allows one request a
second per key and may be slow. So the check gets two seconds: if it finishes, its errors
go inline on the field (`response_action: errors`); if not, the modal says it is checking
and is updated with the outcome when it arrives.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import customers
from bot.domain.errors import DomainError, InvalidRequest
from bot.domain.results import CustomerView
from handlers.slack import ids
from handlers.slack.blocks.modals import checking_view, failed_view, registered_view
from handlers.slack.errors import reported
from handlers.slack.runtime import Turn

from .state import ViewState

INLINE_ANSWER_SECONDS = 2.0
MAX_FIELD_ERROR = 150
"""Slack shows at most this much of an inline error; a longer one gets the whole modal."""
FIELD_BLOCKS = {"name": ids.NAME_BLOCK, "api_key": ids.KEY_BLOCK}
"""The domain names the field at fault; the view state parser names the block."""


@reported
async def register_customer(
    ack: AsyncAck,
    view: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    turn = Turn.of(context, respond, client)
    state = ViewState.of(view)
    try:
        name = state.text(
            ids.NAME_BLOCK,
            ids.NAME_INPUT,
            max_length=ids.NAME_MAX_LENGTH,
            label="the customer name",
        )
        api_key = state.text(
            ids.KEY_BLOCK, ids.KEY_INPUT, max_length=ids.KEY_MAX_LENGTH, label="the API key"
        )
    except InvalidRequest as error:
        if error.field is None:
            raise  # not this bot's form: `reported` replaces the modal with the error
        await _show_error(ack, error)
        return
    registration = asyncio.ensure_future(
        customers.register(turn.deps, name=name, api_key=api_key, actor=turn.actor)
    )
    done, _ = await asyncio.wait({registration}, timeout=INLINE_ANSWER_SECONDS)
    if done:
        try:
            customer = registration.result()
        except DomainError as error:
            await _show_error(ack, error)
            return
        await ack(response_action="update", view=registered_view(customer))
        return
    await ack(response_action="update", view=checking_view())
    await _finish(registration, view_id=view["id"], client=client)


async def _show_error(ack: AsyncAck, error: DomainError) -> None:
    """On the input at fault if it fits there (the API key's by default), else the whole modal."""
    if len(error.message) > MAX_FIELD_ERROR:
        await ack(response_action="update", view=failed_view(error.message))
        return
    field = error.field or ""
    block = field if field in FIELD_BLOCKS.values() else FIELD_BLOCKS.get(field, ids.KEY_BLOCK)
    await ack(response_action="errors", errors={block: error.message})


async def _finish(
    registration: asyncio.Future[CustomerView], *, view_id: str, client: AsyncWebClient
) -> None:
    try:
        customer = await registration
    except DomainError as error:
        await client.views_update(view_id=view_id, view=failed_view(error.message))
        return
    await client.views_update(view_id=view_id, view=registered_view(customer))
