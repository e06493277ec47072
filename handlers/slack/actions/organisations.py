"""Disconnecting an organisation group, and confirming organisations from Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain import choice, customers, links, organisations
from bot.domain.errors import InvalidRequest, NotFound
from handlers.slack import ids
from handlers.slack.admin import admin_only
from handlers.slack.blocks.common import Message, escape
from handlers.slack.blocks.links import choice_closed
from handlers.slack.blocks.summary import disconnected_message, summary_message
from handlers.slack.runtime import Turn, acknowledged
from handlers.slack.views.state import ViewState


def register(app: AsyncApp) -> None:
    app.action(ids.DISCONNECT, middleware=[admin_only("disconnect organisations", disconnecting)])(
        acknowledged(disconnect, calls_out=True)
    )
    app.action(ids.CONFIRM_ORGANISATIONS)(acknowledged(confirm_organisations, calls_out=True))


def disconnecting(action: dict[str, Any]) -> str:
    _, tenant_id = _disconnected(action)
    return f"disconnect organisation {tenant_id[:64]}"


def _disconnected(action: dict[str, Any]) -> tuple[int, str]:
    """The customer and the organisation (tenant) a Disconnect button is about."""
    value = ids.decode(action.get("value"))
    customer_id, tenant_id = ids.int_field(value, "c"), value.get("t")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise InvalidRequest("That button is out of date. Run `/xero summary` again.")
    return customer_id, tenant_id


async def disconnect(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    """Admins only (`register`)."""
    customer_id, tenant_id = _disconnected(action)
    await turn.reply(Message(":hourglass_flowing_sand: Disconnecting at Xero…"), replace=True)
    try:
        result = await organisations.disconnect(
            turn.deps, customer_id=customer_id, tenant_id=tenant_id, actor=turn.actor
        )
    except NotFound:
        summary = await organisations.summary(turn.deps, customer_id=customer_id)
        await turn.reply(summary_message(summary, can_disconnect=True), replace=True)
        raise NotFound(
            "That organisation is no longer connected to any of the customer's stores "
            "(someone disconnected it already); above is the summary as it is now."
        ) from None
    customer = await customers.get(turn.deps, customer_id=customer_id)
    await turn.reply(disconnected_message(customer, result), replace=True)


async def confirm_organisations(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    request_id = ids.int_field(ids.decode(action.get("value")), "r")
    consent = await links.get(turn.deps, consent_request_id=request_id)
    if not consent.usable:
        await turn.reply(choice_closed(consent), replace=True)
        return
    choices = _chosen_organisations(body)
    if not choices:
        raise InvalidRequest("Choose an organisation for at least one store first.")
    result = await choice.confirm(
        turn.deps, consent_request_id=request_id, choices=choices, actor=turn.actor
    )
    lines = ", ".join(f"`{escape(code)}` → {escape(name)}" for code, name in result.linked)
    await turn.reply(
        Message(f":white_check_mark: Confirmed by <@{turn.user_id}>: {lines}"), replace=True
    )


def _chosen_organisations(body: dict[str, Any]) -> dict[str, int]:
    """Each store's organisation as the agent sees it: what they picked, or else the select's
    initial option, which Slack leaves out of `state.values` when it was not touched."""
    state = ViewState.of(body)
    choices: dict[str, int] = {}
    for block in (body.get("message") or {}).get("blocks") or []:
        block_id = str(block.get("block_id") or "")
        if not block_id.startswith(ids.STORE_CHOICE_BLOCK_PREFIX):
            continue
        picked = state.selected(block_id, ids.ORGANISATION_CHOICE, label="the organisation choice")
        initial = (block.get("accessory") or {}).get("initial_option") or {}
        value = picked if picked is not None else str(initial.get("value", ""))
        if value.isdigit():
            choices[block_id.removeprefix(ids.STORE_CHOICE_BLOCK_PREFIX)] = int(value)
    return choices
