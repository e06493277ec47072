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

from bot.domain.errors import DomainError
from bot.domain.results import CustomerView
from handlers.slack import ids
from handlers.slack.blocks.modals import checking_view, failed_view, registered_view
from handlers.slack.errors import reported
from handlers.slack.runtime import Turn

INLINE_ANSWER_SECONDS = 2.0
MAX_FIELD_ERROR = 150
"""Slack shows at most this much of an inline error; a longer one gets the whole modal."""
FIELD_BLOCKS = {"name": ids.NAME_BLOCK, "api_key": ids.KEY_BLOCK}


@reported
async def register_customer(
    ack: AsyncAck,
    view: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    turn = Turn.of(context, respond, client)
    values = view["state"]["values"]
    name = (values.get(ids.NAME_BLOCK, {}).get(ids.NAME_INPUT) or {}).get("value") or ""
    api_key = (values.get(ids.KEY_BLOCK, {}).get(ids.KEY_INPUT) or {}).get("value") or ""
    registration = asyncio.ensure_future(
        turn.service.register_customer(name=name, api_key=api_key, actor=turn.actor)
    )
    done, _ = await asyncio.wait({registration}, timeout=INLINE_ANSWER_SECONDS)
    if done:
        try:
            customer = registration.result()
        except DomainError as error:
            if len(error.message) > MAX_FIELD_ERROR:
                await ack(response_action="update", view=failed_view(error.message))
                return
            block = FIELD_BLOCKS.get(error.field or "", ids.KEY_BLOCK)
            await ack(response_action="errors", errors={block: error.message})
            return
        await ack(response_action="update", view=registered_view(customer))
        return
    await ack(response_action="update", view=checking_view())
    await _finish(registration, view_id=view["id"], client=client)


async def _finish(
    registration: asyncio.Future[CustomerView], *, view_id: str, client: AsyncWebClient
) -> None:
    try:
        customer = await registration
    except DomainError as error:
        await client.views_update(view_id=view_id, view=failed_view(error.message))
        return
    await client.views_update(view_id=view_id, view=registered_view(customer))
