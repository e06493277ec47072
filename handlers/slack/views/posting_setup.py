"""Saving a store's posting set-up: every choice checked against Xero again, a choice that no
longer holds shown as an error on its input.

Slack needs the answer to a submission within 3 seconds, and the check reads Cloud POS and
Xero. So it gets `INLINE_ANSWER_SECONDS`: in time, its errors go inline on the inputs
(`response_action: errors`); late, the modal says it is checking and is updated with the
outcome, the form shown again with what failed when something did.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import posting
from bot.domain.errors import SetupInvalid
from bot.domain.posting_values import PostingChoices, SetupSaved
from handlers.slack import ids
from handlers.slack.blocks.posting import checking_view, problems_note, saved_view, setup_view
from handlers.slack.blocks.setup_fields import MAX_INLINE_ERROR
from handlers.slack.errors import reported
from handlers.slack.runtime import Turn

from .setup_choices import read_choices
from .state import ViewState

INLINE_ANSWER_SECONDS = 2.0


@reported
async def save_setup(
    ack: AsyncAck,
    view: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    turn = Turn.of(context, respond, client)
    meta = ids.decode(view.get("private_metadata"))
    customer_id, store_code = ids.int_field(meta, "c"), str(meta.get("s") or "")
    revision = ids.int_field(meta, "r")
    choices, errors = read_choices(ViewState.of(view))
    if errors:
        await ack(response_action="errors", errors=_clipped(errors))
        return

    async def save() -> SetupSaved:
        async with turn.runtime.slot(calls_out=True):
            return await posting.save(
                turn.deps,
                customer_id=customer_id,
                store_code=store_code,
                choices=choices,
                actor=turn.actor,
            )

    saving = asyncio.ensure_future(save())
    done, _ = await asyncio.wait({saving}, timeout=INLINE_ANSWER_SECONDS)
    if done:
        try:
            saved = saving.result()
        except SetupInvalid as invalid:
            inline = _on_inputs(invalid.problems, view, revision)
            if len(inline) == len(invalid.problems):
                await ack(response_action="errors", errors=inline)
                return
            await ack(response_action="update", view=checking_view(store_code))
            await _show_again(turn, view["id"], customer_id, store_code, choices, invalid, revision)
            return
        await ack(response_action="update", view=_saved(saved, customer_id))
        return
    await ack(response_action="update", view=checking_view(store_code))
    try:
        saved = await saving
    except SetupInvalid as invalid:
        await _show_again(turn, view["id"], customer_id, store_code, choices, invalid, revision)
        return
    await client.views_update(view_id=view["id"], view=_saved(saved, customer_id))


def _saved(saved: SetupSaved, customer_id: int) -> dict[str, Any]:
    return saved_view(saved, customer_id=customer_id, can_mark_ready=True)


def _on_inputs(problems: dict[str, str], view: dict[str, Any], revision: int) -> dict[str, str]:
    """The problems on the inputs the modal has, by block id."""
    blocks = {block.get("block_id") for block in view.get("blocks") or []}
    found = {ids.setup_block(field, revision): why for field, why in problems.items()}
    return _clipped({block: why for block, why in found.items() if block in blocks})


def _clipped(errors: dict[str, str]) -> dict[str, str]:
    return {block: why[:MAX_INLINE_ERROR] for block, why in errors.items()}


async def _show_again(
    turn: Turn,
    view_id: str,
    customer_id: int,
    store_code: str,
    choices: PostingChoices,
    invalid: SetupInvalid,
    revision: int,
) -> None:
    """The form again with the agent's choices and, above it, what did not hold."""
    async with turn.runtime.slot(calls_out=True):
        form = await posting.form(turn.deps, customer_id=customer_id, store_code=store_code)
    form = replace(form, current=choices)
    note = problems_note(form, invalid.problems)
    view = setup_view(form, errors_note=note, revision=revision + 1)
    await turn.client.views_update(view_id=view_id, view=view)
