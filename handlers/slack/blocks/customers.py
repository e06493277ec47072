"""Help, the customer card, choosing among several customers, the audit trail."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)

from bot.domain.results import CustomerCandidate, CustomerView, StoreView
from bot.domain.states import StoreStatus
from handlers.slack import ids

from .common import (
    Message,
    button,
    clip,
    context,
    counted,
    escape,
    message,
    page_buttons,
    page_of,
    section,
)
from .posting import checklist_line, ready_button, setup_button

STORES_PER_PAGE = 20
"""With a section and a set-up actions block per store, 20 stores make at most 46 blocks."""
STATE_EMOJI = {
    "not_connected": ":white_circle:",
    "consent_sent": ":envelope:",
    "awaiting_choice": ":hourglass_flowing_sand:",
    "connected": ":large_green_circle:",
    "disconnected": ":black_circle:",
    "needs_reconnect": ":red_circle:",
}

HELP = """\
*`/xero` commands*
• `/xero customer add` — register a customer with their Cloud POS API key
• `/xero stores <customer>` — the customer's stores and their state, with buttons to send links
• `/xero link <customer> <store codes… | all>` — a consent link for the customer, \
e.g. `/xero link "Acme Bikes" S001 S002`; an open link for the same stores is replaced \
only once you confirm
• `/xero setup <customer> [store code]` — a connected store's posting set-up: which Xero \
accounts, tax rate, tracking and contact its sales post to, checked live with Xero, then \
*Mark ready for sync* (also a *Set up posting* button on each connected store)
• `/xero summary <customer>` — stores grouped by Xero organisation and how many are ready \
for sync, with Disconnect buttons
• `/xero disconnect <customer> <organisation>` — e.g. `/xero disconnect "Acme Bikes" "Acme Ltd"`
• `/xero audit <customer>` — what was done for the customer, latest first
• `/xero links [customer]` — consent links still waiting for customers, oldest first
• `/xero attention` — what needs the helpdesk now: broken stores, links about to expire, \
plans Xero cannot integrate, the connection limit, the scheduled jobs (also on the bot's Home tab)
A customer is their number (`12` or `#12`) or their name; put names with spaces in quotes \
when more words follow."""


def help_message(note: str = "") -> Message:
    text = f"{note}\n\n{HELP}" if note else HELP
    return message("How to use /xero", [section(text)])


def customer_card(customer: CustomerView, *, page: int = 0) -> Message:
    """The customer's stores with their state and the buttons to connect them."""
    stores = customer.stores
    shown, page, pages = page_of(stores, size=STORES_PER_PAGE, page=page)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(customer.name, 150))),
        context(
            f"Customer #{customer.id} · Cloud POS group {escape(customer.cloudpos_group)} · "
            f"{escape(customer.licence)} licence · {counted(len(stores), 'store')}"
        ),
    ]
    for store in shown:
        state = STATE_EMOJI[store.status.value] + " " + escape(store.state_label)
        closed = "" if store.active_in_cloudpos else " · _not active in Cloud POS_"
        link_button = (
            button(
                "Send consent link",
                ids.SEND_LINK_FOR_STORE,
                ids.encode(c=customer.id, s=store.code),
            )
            if store.active_in_cloudpos
            else None
        )
        checklist = f"\n{checklist_line(store.checklist)}" if store.checklist else ""
        blocks.append(
            section(
                f"*{escape(store.name)}* `{escape(store.code)}`\n{state}{closed}{checklist}",
                link_button,
            )
        )
        if store.status == StoreStatus.CONNECTED:
            blocks.append(ActionsBlock(elements=_setup_buttons(customer.id, store)))
    if not stores:
        blocks.append(section("No stores yet. Press *Refresh stores* to read them from Cloud POS."))
    blocks.append(DividerBlock())
    active = [store for store in shown if store.active_in_cloudpos]
    if active:
        blocks.append(
            SectionBlock(
                block_id=ids.STORE_PICKER,
                text=MarkdownTextObject(text="Send one link for several stores:"),
                accessory=StaticMultiSelectElement(
                    action_id=ids.STORE_PICKER,
                    placeholder=PlainTextObject(text="Choose stores"),
                    options=[
                        Option(
                            text=PlainTextObject(text=clip(f"{s.code} {s.name}", 75)), value=s.code
                        )
                        for s in active
                    ],
                ),
            )
        )
    buttons = []
    if active:
        selected = ids.encode(c=customer.id)
        buttons.append(
            button("Send link for selected", ids.SEND_LINK_FOR_SELECTED, selected, style="primary")
        )
    buttons += [
        button("Refresh stores", ids.REFRESH_STORES, ids.encode(c=customer.id)),
        button("Summary", ids.SHOW_SUMMARY, ids.encode(c=customer.id)),
    ]
    buttons += page_buttons(ids.STORES_PAGE, customer.id, page=page, pages=pages)
    blocks.append(ActionsBlock(elements=buttons))
    if pages > 1:
        blocks.append(context(f"Page {page + 1} of {pages}"))
    return message(f"{customer.name}: {counted(len(stores), 'store')}", blocks)


def _setup_buttons(customer_id: int, store: StoreView) -> list[ButtonElement]:
    buttons = [setup_button(customer_id, store.code)]
    checklist = store.checklist
    if checklist is not None and checklist.blocking is None and not checklist.ready:
        buttons.append(ready_button(customer_id, store.code))
    return buttons


def candidates_message(
    query: str, candidates: Sequence[CustomerCandidate], *, then: str
) -> Message:
    """Several customers matched: pick one, and `then` runs for it."""
    shown = list(candidates)[:100]
    return message(
        f"Several customers match {query!r}",
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{len(candidates)} customers match *{escape(query)}*. Which one?"
                ),
                accessory=StaticSelectElement(
                    action_id=ids.CHOOSE_CUSTOMER,
                    placeholder=PlainTextObject(text="Choose a customer"),
                    options=[
                        Option(
                            text=PlainTextObject(text=clip(f"#{c.id} {c.name}", 75)),
                            value=ids.encode(c=c.id, then=then),
                        )
                        for c in shown
                    ],
                ),
            )
        ],
    )
