"""`/xero` and its subcommands: acknowledge at once, then answer through `respond`."""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import attention, audit, customers, organisations
from bot.domain.errors import Ambiguous, InvalidRequest
from bot.domain.results import CustomerCandidate
from bot.domain.states import StoreStatus
from handlers.slack.blocks.attention import attention_message
from handlers.slack.blocks.audit import audit_message
from handlers.slack.blocks.common import Message, clip, escape, section
from handlers.slack.blocks.customers import (
    candidates_message,
    customer_card,
    help_message,
)
from handlers.slack.blocks.modals import register_customer_view
from handlers.slack.blocks.summary import disconnect_confirmation, summary_message
from handlers.slack.errors import reported
from handlers.slack.links import send_link, show_waiting
from handlers.slack.runtime import Turn
from handlers.slack.setup_modal import open_setup

from .parsing import Invocation, parse, quoted


@reported
async def xero_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    invocation = parse(command.get("text", ""))
    turn = Turn.of(context, respond, client)
    if invocation.problem:
        raise InvalidRequest(invocation.problem)
    if invocation.name == "customer add":
        await client.views_open(trigger_id=command["trigger_id"], view=register_customer_view())
        return
    if invocation.name == "setup":
        await setup(turn, invocation, trigger_id=str(command.get("trigger_id") or ""))
        return
    subcommand = SUBCOMMANDS.get(invocation.name)
    if subcommand is None:
        await turn.reply(help_message(_unknown(invocation.name)))
        return
    async with turn.runtime.slot(calls_out=False):
        await subcommand(turn, invocation)


def _unknown(name: str) -> str:
    if name == "help":
        return ""
    note = f"There is no `/xero {escape(clip(name, 40))}`."
    known = [*SUBCOMMANDS, *MODALS, "help"]
    if name == "customer":
        return f"{note} Did you mean `/xero customer add`?"
    if close := difflib.get_close_matches(name, known, n=1, cutoff=0.6):
        return f"{note} Did you mean `/xero {close[0]}`?"
    return note


async def stores(turn: Turn, invocation: Invocation) -> None:
    if customer := await _customer(turn, invocation, then="stores"):
        card = await customers.get(turn.deps, customer_id=customer.id)
        await turn.reply(customer_card(card))


async def summary(turn: Turn, invocation: Invocation) -> None:
    if customer := await _customer(turn, invocation, then="summary"):
        summary = await organisations.summary(turn.deps, customer_id=customer.id)
        await turn.reply(summary_message(summary, can_disconnect=turn.is_admin))


async def audit_trail(turn: Turn, invocation: Invocation) -> None:
    if customer := await _customer(turn, invocation, then="audit"):
        entries = await audit.history(turn.deps, customer_id=customer.id)
        await turn.reply(audit_message(customer.name, entries))


async def link(turn: Turn, invocation: Invocation) -> None:
    """`link <customer> codes… | all`: the longest leading words naming a customer win.

    Every store must be asked for with `all`: a name typed without codes is more often a
    slip than a wish to replace every open link of the customer."""
    customer, codes = await _customer_and_rest(turn, invocation, then="stores")
    if customer is None:
        return
    if not codes:
        named = quoted(customer.name)
        raise InvalidRequest(
            f"Say which stores: `/xero link {named} S001 S002`, or `/xero link {named} all` "
            f"for every store. `/xero stores {named}` has a button per store."
        )
    chosen = None if [c.lower() for c in codes] == ["all"] else list(codes)
    await send_link(turn, customer_id=customer.id, store_codes=chosen)


async def setup(turn: Turn, invocation: Invocation, *, trigger_id: str) -> None:
    """`setup <customer> [store]`: a customer with one connected store needs no code; with
    several, their card shows a Set up posting button on each."""
    customer, codes = await _customer_and_rest(turn, invocation, then="stores")
    if customer is None:
        return
    named = quoted(customer.name)
    if len(codes) > 1:
        raise InvalidRequest(f"Set up one store at a time: `/xero setup {named} {codes[0]}`.")
    if codes:
        await open_setup(turn, trigger_id=trigger_id, customer_id=customer.id, store_code=codes[0])
        return
    card = await customers.get(turn.deps, customer_id=customer.id)
    connected = [store for store in card.stores if store.status == StoreStatus.CONNECTED]
    if len(connected) == 1:
        await open_setup(
            turn, trigger_id=trigger_id, customer_id=customer.id, store_code=connected[0].code
        )
        return
    if not connected:
        raise InvalidRequest(
            f"None of {customer.name}'s stores is connected to Xero yet, so there is no "
            f"posting to set up. Send a consent link first: `/xero link {named} <store codes>`."
        )
    note = section(
        f"Which store? Press *Set up posting* on one below, or run "
        f"`/xero setup {escape(named)} <store code>`."
    )
    shown = customer_card(card)
    await turn.reply(Message(shown.text, [note.to_dict(), *shown.blocks]))


def typed_disconnect(command: dict[str, Any]) -> str | None:
    """What a typed `/xero disconnect` attempts, for the admin check; None for the
    subcommands every helpdesk agent may use (and for words that cannot be read)."""
    invocation = parse(command.get("text", ""))
    if invocation.name != "disconnect" or invocation.problem:
        return None
    return f"/xero disconnect {clip(invocation.rest, 150)}"


async def waiting(turn: Turn, invocation: Invocation) -> None:
    """`links [customer]`: the links customers can still use, oldest first."""
    customer = None
    if invocation.words:
        customer = await _customer(turn, invocation, then="links")
        if customer is None:
            return
    await show_waiting(turn, customer)


ATTENTION_SHOWN = 60
"""Broken stores read for one message: more than its 50 blocks hold when each is another
customer's; the message counts what it leaves out."""


async def needs_attention(turn: Turn, invocation: Invocation) -> None:
    """`attention`: what needs the helpdesk now, everyone's (the App Home shows it too)."""
    if invocation.words:
        raise InvalidRequest("`/xero attention` takes no customer: it lists what needs anyone.")
    found = await attention.overview(turn.deps, limit=ATTENTION_SHOWN)
    await turn.reply(attention_message(found))


async def disconnect(turn: Turn, invocation: Invocation) -> None:
    """Admins only: `typed_disconnect` refuses anyone else before the command runs."""
    customer, rest = await _customer_and_rest(turn, invocation, then="summary")
    if customer is None:
        return
    if not rest:
        raise InvalidRequest(
            f"Say which organisation: `/xero disconnect {invocation.words[0]} <organisation>`, "
            "or use the buttons of `/xero summary`."
        )
    group = await organisations.find_group(turn.deps, customer_id=customer.id, name=" ".join(rest))
    await turn.reply(disconnect_confirmation(customer, group))


async def _customer(turn: Turn, invocation: Invocation, *, then: str) -> CustomerCandidate | None:
    if not invocation.words:
        raise InvalidRequest(f"Say which customer: `/xero {invocation.name} <name or number>`.")
    try:
        return await customers.identify(turn.deps, query=invocation.rest)
    except Ambiguous as several:
        await turn.reply(candidates_message(invocation.rest, _customers(several), then=then))
        return None


def _customers(several: Ambiguous) -> list[CustomerCandidate]:
    return [c for c in several.candidates if isinstance(c, CustomerCandidate)]


async def _customer_and_rest(
    turn: Turn, invocation: Invocation, *, then: str
) -> tuple[CustomerCandidate | None, tuple[str, ...]]:
    if not invocation.words:
        raise InvalidRequest(f"Say which customer: `/xero {invocation.name} <name or number>`.")
    try:
        return await customers.identify_leading(
            turn.deps, words=invocation.words, quoted=invocation.quoted_first
        )
    except Ambiguous as several:
        query = several.query or invocation.rest
        await turn.reply(candidates_message(query, _customers(several), then=then))
        return None, ()


MODALS = ("customer add", "setup")
"""Subcommands that open a modal, so they need the command's trigger id."""
SUBCOMMANDS: dict[str, Callable[[Turn, Invocation], Awaitable[None]]] = {
    "stores": stores,
    "summary": summary,
    "audit": audit_trail,
    "link": link,
    "links": waiting,
    "attention": needs_attention,
    "disconnect": disconnect,
}
