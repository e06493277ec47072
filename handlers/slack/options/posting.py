"""The set-up modal's searches: accounts and tax rates past 100, tracking options, contacts.

Slack shows nothing for an answer later than 3 seconds, so each search gets `ANSWER_SECONDS`;
a search that fails or is too slow answers with one option saying so, which a submission
refuses like any other non-choice (`ids.NOTHING_FITS`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import Option, OptionGroup, PlainTextObject
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import posting
from bot.domain.errors import DomainError, InvalidRequest
from bot.domain.posting_values import (
    GIFT_CARD_ACCOUNT,
    ROUNDING_ACCOUNT,
    SALES_ACCOUNT,
    TAX_RATE,
    Choice,
)
from handlers.slack import ids
from handlers.slack.blocks import setup_fields as fields
from handlers.slack.blocks.common import clip
from handlers.slack.errors import reported
from handlers.slack.runtime import Turn

log = logging.getLogger(__name__)

ANSWER_SECONDS = 2.5
MAX_GROUPS = 100
SLOW = "Xero is slow to answer: type again in a moment"
FIELDS = {
    ids.SETUP_SALES: SALES_ACCOUNT,
    ids.SETUP_TAX: TAX_RATE,
    ids.SETUP_PAYMENT: posting.PAYMENT_ACCOUNT,
    ids.SETUP_ROUNDING: ROUNDING_ACCOUNT,
    ids.SETUP_GIFT_CARD: GIFT_CARD_ACCOUNT,
}
"""Each searchable select's action id, and the domain's name for its list."""


def register(app: AsyncApp) -> None:
    for action_id in (*FIELDS, ids.SETUP_TRACKING, ids.SETUP_CONTACT):
        app.options(action_id)(setup_options)


@reported
async def setup_options(
    ack: AsyncAck,
    body: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    turn = Turn.of(context, respond, client)
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            answer = await _answer(turn, body)
    except TimeoutError:
        log.warning("a set-up search took over %.1f s", ANSWER_SECONDS)
        answer = {"options": [_notice(SLOW).to_dict()]}
    except DomainError as error:
        answer = {"options": [_notice(error.message).to_dict()]}
    await ack(**answer)


async def _answer(turn: Turn, body: dict[str, Any]) -> dict[str, Any]:
    meta = ids.decode((body.get("view") or {}).get("private_metadata"))
    customer_id, store_code = ids.int_field(meta, "c"), meta.get("s")
    action_id, search = body.get("action_id"), body.get("value")
    if not isinstance(store_code, str) or not isinstance(search, str):
        raise InvalidRequest("This form is out of date: open the set-up again")
    deps = turn.deps
    if action_id == ids.SETUP_CONTACT:
        found = await posting.find_contacts(
            deps, customer_id=customer_id, store_code=store_code, search=search
        )
        return _options(found, "No active contact has that name in Xero")
    if action_id == ids.SETUP_TRACKING:
        categories = await posting.find_tracking(
            deps, customer_id=customer_id, store_code=store_code, search=search
        )
        groups = [
            OptionGroup(
                label=PlainTextObject(text=clip(category.name, fields.MAX_OPTION_TEXT)),
                options=[fields.tracking_option(category, c) for c in category.options][
                    : fields.MAX_OPTIONS
                ],
            ).to_dict()
            for category in categories[:MAX_GROUPS]
        ]
        return {"option_groups": groups} if groups else _options([], "No option matches")
    field = FIELDS.get(str(action_id))
    if field is None:
        raise InvalidRequest("This form is out of date: open the set-up again")
    choices = await posting.find_choices(
        deps, customer_id=customer_id, store_code=store_code, field=field, search=search
    )
    return _options(choices, "Nothing in this organisation matches")


def _options(choices: Sequence[Choice], empty: str) -> dict[str, Any]:
    offered = fields.offerable(choices)[: fields.MAX_OPTIONS]
    if not offered:
        return {"options": [_notice(empty).to_dict()]}
    return {"options": [fields.choice_option(choice).to_dict() for choice in offered]}


def _notice(text: str) -> Option:
    return fields.option(text, ids.NOTHING_FITS)
