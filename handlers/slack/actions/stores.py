"""The customer card's buttons: send links, refresh stores, page, summary, pick a customer."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain import audit, customers, organisations
from bot.domain.errors import InvalidRequest
from bot.domain.results import CustomerCandidate
from handlers.slack import ids
from handlers.slack.blocks.audit import audit_message
from handlers.slack.blocks.common import Message
from handlers.slack.blocks.customers import customer_card
from handlers.slack.blocks.summary import summary_message
from handlers.slack.links import send_link, show_waiting
from handlers.slack.runtime import Turn, acknowledged
from handlers.slack.views.state import ViewState


def register(app: AsyncApp) -> None:
    app.action(ids.SEND_LINK_FOR_STORE)(acknowledged(send_link_for_store))
    app.action(ids.SEND_LINK_FOR_SELECTED)(acknowledged(send_link_for_selected))
    app.action(ids.REFRESH_STORES)(acknowledged(refresh_stores, calls_out=True))
    app.action(ids.STORES_PAGE)(acknowledged(show_stores))
    app.action(ids.SHOW_STORES)(acknowledged(show_stores))
    app.action(ids.SHOW_SUMMARY)(acknowledged(show_summary))
    app.action(ids.SUMMARY_PAGE)(acknowledged(show_summary))
    app.action(ids.CHOOSE_CUSTOMER)(acknowledged(choose_customer))


async def send_link_for_store(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    value = ids.decode(action.get("value"))
    store = value.get("s")
    if not isinstance(store, str):
        raise InvalidRequest("That button is out of date. Run the command again.")
    await send_link(turn, customer_id=ids.int_field(value, "c"), store_codes=[store])


async def send_link_for_selected(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    codes = ViewState.of(body).multi_selected(
        ids.STORE_PICKER, ids.STORE_PICKER, label="the stores"
    )
    if not codes:
        raise InvalidRequest("Choose one or more stores in the list first.")
    customer_id = ids.int_field(ids.decode(action.get("value")), "c")
    await send_link(turn, customer_id=customer_id, store_codes=codes)


async def refresh_stores(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    customer_id = ids.int_field(ids.decode(action.get("value")), "c")
    await turn.reply(
        Message(":hourglass_flowing_sand: Reading the stores from Cloud POS…"), replace=True
    )
    customer = await customers.refresh_stores(turn.deps, customer_id=customer_id, actor=turn.actor)
    await turn.reply(customer_card(customer), replace=True)


async def show_stores(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    value = ids.decode(action.get("value"))
    customer = await customers.get(turn.deps, customer_id=ids.int_field(value, "c"))
    await turn.reply(customer_card(customer, page=ids.page_field(value)), replace=True)


async def show_summary(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    value = ids.decode(action.get("value"))
    summary = await organisations.summary(turn.deps, customer_id=ids.int_field(value, "c"))
    await turn.reply(
        summary_message(summary, page=ids.page_field(value), can_disconnect=turn.is_admin),
        replace=True,
    )


async def choose_customer(turn: Turn, action: dict[str, Any], body: dict[str, Any]) -> None:
    value = ids.decode((action.get("selected_option") or {}).get("value"))
    customer_id = ids.int_field(value, "c")
    then = value.get("then")
    if then == "summary":
        summary = await organisations.summary(turn.deps, customer_id=customer_id)
        await turn.reply(summary_message(summary, can_disconnect=turn.is_admin), replace=True)
    elif then == "links":
        customer = await customers.get(turn.deps, customer_id=customer_id)
        await show_waiting(
            turn, CustomerCandidate(id=customer.id, name=customer.name), replace=True
        )
    elif then == "audit":
        customer = await customers.get(turn.deps, customer_id=customer_id)
        entries = await audit.history(turn.deps, customer_id=customer_id)
        await turn.reply(audit_message(customer.name, entries), replace=True)
    else:
        customer = await customers.get(turn.deps, customer_id=customer_id)
        await turn.reply(customer_card(customer), replace=True)
