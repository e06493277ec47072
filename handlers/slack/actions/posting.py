"""Posting set-up's buttons and selects: open a store's set-up, copy another store's into
the form, and mark a store ready for sync."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import customers, posting
from bot.domain.errors import InvalidRequest
from handlers.slack import ids
from handlers.slack.blocks.customers import STORES_PER_PAGE, customer_card
from handlers.slack.blocks.posting import ready_view
from handlers.slack.errors import reported
from handlers.slack.runtime import Turn, acknowledged
from handlers.slack.setup_modal import Loaded, fill, open_setup


def register(app: AsyncApp) -> None:
    app.action(ids.SETUP_OPEN)(open_from_message)
    app.action(ids.SETUP_COPY)(acknowledged(copy_from))
    app.action(ids.SETUP_READY)(acknowledged(mark_ready, calls_out=True))


@reported
async def open_from_message(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """Set up posting, from a store's button or the summary's picker: the modal opens before
    anything else is done, while the trigger id is fresh."""
    await ack()
    picked = action.get("selected_option") or {}
    customer_id, store_code = _store_of(action.get("value") or picked.get("value"))
    await open_setup(
        Turn.of(context, respond, client),
        trigger_id=str(body.get("trigger_id") or ""),
        customer_id=customer_id,
        store_code=store_code,
    )


async def copy_from(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    view = body.get("view") or {}
    customer_id, store_code = _store_of(view.get("private_metadata"))
    revision = ids.int_field(ids.decode(view.get("private_metadata")), "r")
    source = (action.get("selected_option") or {}).get("value")
    if not isinstance(source, str) or not view.get("id"):
        raise InvalidRequest("That list is out of date. Open the set-up again.")

    async def load() -> Loaded:
        try:
            form = await posting.copy_from(
                turn.deps, customer_id=customer_id, store_code=store_code, source_code=source
            )
        except InvalidRequest as error:
            form = await posting.form(turn.deps, customer_id=customer_id, store_code=store_code)
            return form, error.message
        return form, f"Filled from {source}: check each choice, then press Save."

    await fill(turn, view_id=view["id"], load=load, revision=revision + 1)


async def mark_ready(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    customer_id, store_code = _store_of(action.get("value"))
    checklist = await posting.mark_ready(
        turn.deps, customer_id=customer_id, store_code=store_code, actor=turn.actor
    )
    view = body.get("view") or {}
    if view.get("id"):
        await turn.client.views_update(view_id=view["id"], view=ready_view(store_code, checklist))
        return
    card = await customers.get(turn.deps, customer_id=customer_id)
    codes = [store.code.casefold() for store in card.stores]
    at = codes.index(store_code.casefold()) if store_code.casefold() in codes else 0
    await turn.reply(customer_card(card, page=at // STORES_PER_PAGE), replace=True)


def _store_of(value: object) -> tuple[int, str]:
    fields = ids.decode(value if isinstance(value, str) else None)
    store_code = fields.get("s")
    if not isinstance(store_code, str) or not store_code:
        raise InvalidRequest("That button is out of date. Run the command again.")
    return ids.int_field(fields, "c"), store_code
