"""Stores grouped by Xero organisation, and disconnecting a group."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    StaticSelectElement,
)

from bot.domain.results import Disconnection, OrganisationGroup, StoreView, Summary
from bot.domain.states import GrantStatus, StoreStatus
from handlers.slack import ids

from .common import (
    Customer,
    Message,
    button,
    clip,
    context,
    counted,
    escape,
    listing,
    message,
    page_buttons,
    page_of,
    possessive,
    section,
    when,
)

GROUPS_PER_PAGE = 12
"""12 groups of 3 blocks, the header and its context, Not connected (2), navigation and the
page number: 42 blocks."""
MAX_PICKER_OPTIONS = 100
GRANT_HEALTH = {
    GrantStatus.ACTIVE: ":large_green_circle: Xero access healthy",
    GrantStatus.NEEDS_RECONNECT: ":red_circle: needs reconnecting: send a new consent link",
    GrantStatus.REVOKED: ":black_circle: Xero access revoked",
}


def summary_message(summary: Summary, *, page: int = 0, can_disconnect: bool = False) -> Message:
    """Stores by organisation; the Disconnect buttons only for those who may press them."""
    customer = summary.customer
    groups = summary.groups
    shown, page, pages = page_of(groups, size=GROUPS_PER_PAGE, page=page)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"Xero summary: {customer.name}", 150))),
        context(
            f"{counted(len(groups), 'organisation')} · "
            f"{counted(sum(len(group.stores) for group in groups), 'store')} connected · "
            f"{len(summary.not_connected)} not connected"
        ),
    ]
    for group in shown:
        blocks += _group(customer, group, can_disconnect=can_disconnect)
    if summary.not_connected and page == pages - 1:
        lines = listing(
            [
                f"`{escape(s.code)}` {escape(s.name)} ({escape(s.state_label)})"
                for s in summary.not_connected
            ],
            limit=2800,
        )
        blocks += [DividerBlock(), section(f"*Not connected*\n{lines}")]
    if not groups and not summary.not_connected:
        blocks.append(section("This customer has no stores yet."))
    navigation = page_buttons(ids.SUMMARY_PAGE, customer.id, page=page, pages=pages)
    navigation.append(button("Stores", ids.SHOW_STORES, ids.encode(c=customer.id)))
    blocks.append(ActionsBlock(elements=navigation))
    if pages > 1:
        blocks.append(context(f"Page {page + 1} of {pages}"))
    return message(f"Xero summary for {customer.name}", blocks)


def disconnect_confirmation(customer: Customer, group: OrganisationGroup) -> Message:
    """What `/xero disconnect` shows before anything happens: the same button as the summary."""
    return message(
        f"Disconnect {group.tenant_name}?",
        [
            section(
                f"*{escape(group.tenant_name)}* has {len(group.stores)} of "
                f"{escape(possessive(customer.name))} stores: "
                + listing(
                    [f"`{escape(s.code)}` {escape(s.name)}" for s in group.stores], limit=2500
                )
            ),
            ActionsBlock(elements=[_disconnect_button(customer, group)]),
        ],
    )


def disconnected_message(customer: Customer, result: Disconnection) -> Message:
    stores = listing([f"`{escape(code)}`" for code in result.store_codes], limit=2000)
    notes = []
    if result.kept_for_other_customers:
        notes.append("The Xero connection was kept: other customers' stores still use it.")
    elif not result.removed_at_xero:
        notes.append("Xero had already removed the connection.")
    if result.token_revoked:
        notes.append(
            "The Xero user has no other organisation connected, so their access was revoked."
        )
    notes.append("Stores that should stay connected must be connected again with a new link.")
    return message(
        f"{result.tenant_name} disconnected",
        [
            section(
                f":white_check_mark: Disconnected *{escape(result.tenant_name)}* from "
                f"{escape(customer.name)}: {stores}."
            ),
            context(" ".join(notes)),
        ],
    )


def _group(customer: Customer, group: OrganisationGroup, *, can_disconnect: bool) -> list[Block]:
    """A divider, the organisation with its stores, and a picker of the stores to set up:
    three blocks, so that GROUPS_PER_PAGE groups and the page's other six fit in 50."""
    plan = escape(group.plan_label) + ("" if group.plan_recognised else " (plan not recognised)")
    stores = listing([f"`{escape(s.code)}` {escape(s.name)}" for s in group.stores], limit=1800)
    ready = sum(1 for s in group.stores if s.checklist is not None and s.checklist.ready)
    blocks: list[Block] = [
        DividerBlock(),
        section(
            f"*{escape(group.tenant_name)}* · {plan}\n"
            f"Connected by {escape(group.connected_by)} {when(group.linked_at)}\n"
            f"{GRANT_HEALTH[group.grant_status]}\n"
            f"{ready} of {len(group.stores)} ready for sync · "
            f"{counted(len(group.stores), 'store')}: {stores}",
            _disconnect_button(customer, group) if can_disconnect else None,
        ),
    ]
    connected = [s for s in group.stores if s.status == StoreStatus.CONNECTED]
    if connected:
        blocks.append(ActionsBlock(elements=[_setup_picker(customer, connected)]))
    return blocks


def _setup_picker(customer: Customer, stores: Sequence[StoreView]) -> StaticSelectElement:
    """The group's connected stores, the first 100 when there are more (Slack's limit)."""
    return StaticSelectElement(
        action_id=ids.SETUP_OPEN,
        placeholder=PlainTextObject(text="Set up posting for…"),
        options=[
            Option(
                text=PlainTextObject(text=clip(f"{s.code} {s.name}", 75)),
                value=ids.encode(c=customer.id, s=s.code),
            )
            for s in stores[:MAX_PICKER_OPTIONS]
        ],
    )


def _disconnect_button(customer: Customer, group: OrganisationGroup) -> ButtonElement:
    stores = listing([s.code for s in group.stores], limit=150)
    return button(
        "Disconnect from Xero",
        ids.DISCONNECT,
        ids.encode(c=customer.id, t=group.tenant_id),
        style="danger",
        confirm=ConfirmObject(
            title=PlainTextObject(text="Disconnect from Xero?"),
            text=MarkdownTextObject(
                text=clip(
                    f"This disconnects *every* store linked to *{escape(group.tenant_name)}*: "
                    f"{stores}. A store that should stay connected must be connected again.",
                    300,
                )
            ),
            confirm=PlainTextObject(text="Disconnect"),
            deny=PlainTextObject(text="Cancel"),
            style="danger",
        ),
    )
