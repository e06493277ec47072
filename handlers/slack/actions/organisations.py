"""Disconnecting an organisation group, and confirming organisations from Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.errors import InvalidRequest
from handlers.slack import ids
from handlers.slack.blocks.common import Message, escape
from handlers.slack.blocks.summary import disconnected_message
from handlers.slack.runtime import Turn, acknowledged


def register(app: AsyncApp) -> None:
    app.action(ids.DISCONNECT)(acknowledged(disconnect))
    app.action(ids.CONFIRM_ORGANISATIONS)(acknowledged(confirm_organisations))


async def disconnect(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    value = ids.decode(action.get("value"))
    customer_id, connection_id = ids.int_field(value, "c"), ids.int_field(value, "o")
    if not turn.is_admin:
        await turn.service.record_access_refused(
            actor=turn.actor, attempted=f"disconnect organisation {connection_id}"
        )
    turn.require_admin("disconnect organisations")
    await turn.reply(Message(":hourglass_flowing_sand: Disconnecting at Xero…"), replace=True)
    result = await turn.service.disconnect_organisation(
        customer_id=customer_id, connection_id=connection_id, actor=turn.actor
    )
    customer = await turn.service.get_customer(customer_id=customer_id)
    await turn.reply(disconnected_message(customer, result), replace=True)


async def confirm_organisations(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    request_id = ids.int_field(ids.decode(action.get("value")), "r")
    choices: dict[str, int] = {}
    for block_id, inputs in (body.get("state") or {}).get("values", {}).items():
        if not block_id.startswith(ids.STORE_CHOICE_BLOCK_PREFIX):
            continue
        chosen = (inputs.get(ids.ORGANISATION_CHOICE) or {}).get("selected_option")
        if chosen and str(chosen.get("value", "")).isdigit():
            choices[block_id.removeprefix(ids.STORE_CHOICE_BLOCK_PREFIX)] = int(chosen["value"])
    if not choices:
        raise InvalidRequest("Choose an organisation for at least one store first.")
    result = await turn.service.confirm_organisations(
        consent_request_id=request_id, choices=choices, actor=turn.actor
    )
    lines = ", ".join(f"`{escape(code)}` → {escape(name)}" for code, name in result.linked)
    await turn.reply(
        Message(f":white_check_mark: Confirmed by <@{turn.user_id}>: {lines}"), replace=True
    )
