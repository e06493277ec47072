"""The posting set-up modal of one store, what it says while Xero is read or re-checks the
choices, what it says once saved, and the checklist line the card and summary show too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.posting_values import (
    CONTACT,
    GIFT_CARD_ACCOUNT,
    INVOICE_STATUS,
    ROUNDING_ACCOUNT,
    SALES_ACCOUNT,
    START_DATE,
    TAX_RATE,
    TRACKING,
    Checklist,
    SetupForm,
    SetupSaved,
    payment_field,
)
from handlers.slack import ids

from . import setup_fields as fields
from .common import button, clip, context, escape, possessive, section
from .modals import notice_view

TITLE = "Posting set-up"
MAX_VIEW_BLOCKS = 100
DONE = ":white_check_mark:"
TO_DO = ":white_large_square:"
READY = ":large_green_circle:"
MAX_NOTE = 2500
FIELD_NAMES = {
    SALES_ACCOUNT: "Sales account",
    TAX_RATE: "Sales tax rate",
    ROUNDING_ACCOUNT: "Rounding / variance account",
    GIFT_CARD_ACCOUNT: "Gift card account",
    TRACKING: "Tracking",
    CONTACT: "Contact",
    INVOICE_STATUS: "Invoice status",
    START_DATE: "Start date",
}
PART_DONE = (
    "Save at any time: the checklist counts what is done. Every step but gift cards and "
    "tracking is needed before the store can be marked ready for sync."
)


def loading_view(store_code: str) -> dict[str, Any]:
    """What the agent sees while the store's accounts are read from Xero."""
    return _waiting(f"Reading {escape(possessive(store_code))} accounts from Xero…")


def checking_view(store_code: str) -> dict[str, Any]:
    """What the agent sees while Xero re-checks the choices before they are saved."""
    return _waiting(f"Checking the choices for `{escape(store_code)}` with Xero…")


def setup_view(
    form: SetupForm, *, errors_note: str | None = None, revision: int = 0
) -> dict[str, Any]:
    """The form: every step of the set-up, with what is stored picked where Xero still offers
    it. Every input may be left blank, so a set-up can be saved part-done; `revision` gives
    the inputs new block ids (`ids.setup_block`) when the form is filled anew."""
    current = form.current
    blocks: list[Block] = []
    if errors_note:
        blocks.append(context(f":warning: {escape(errors_note)}"))
    blocks += [
        section(
            f"*{escape(form.store_name)}* `{escape(form.store_code)}` → "
            f"*{escape(form.organisation_name)}*"
        ),
        context(f"{checklist_line(form.checklist)}\n{PART_DONE}"),
    ]
    if form.copy_sources:
        blocks.append(
            ActionsBlock(
                block_id=ids.SETUP_COPY_BLOCK,
                elements=[
                    StaticSelectElement(
                        action_id=ids.SETUP_COPY,
                        placeholder=PlainTextObject(text="Copy from another store"),
                        options=[
                            fields.choice_option(source)
                            for source in fields.offerable(form.copy_sources)[: fields.MAX_OPTIONS]
                        ],
                    )
                ],
            )
        )
    blocks += [
        fields.select_input(
            ids.SETUP_SALES,
            ids.SETUP_SALES,
            "Sales account",
            form.sales_accounts,
            current.sales_account_id,
        ),
        fields.select_input(
            ids.SETUP_TAX,
            ids.SETUP_TAX,
            "Sales tax rate",
            form.tax_rates,
            current.tax_type,
            placeholder="Choose a tax rate",
        ),
    ]
    blocks += [
        fields.select_input(
            ids.payment_block(tender.id),
            ids.SETUP_PAYMENT,
            f"Payments: {tender.name} ({tender.type})",
            form.payment_accounts,
            current.payments.get(tender.id),
        )
        for tender in form.tenders
    ]
    blocks.append(
        fields.select_input(
            ids.SETUP_ROUNDING,
            ids.SETUP_ROUNDING,
            "Rounding / variance account",
            form.rounding_accounts,
            current.rounding_account_id,
        )
    )
    if form.gift_card_accounts:
        blocks.append(
            fields.select_input(
                ids.SETUP_GIFT_CARD,
                ids.SETUP_GIFT_CARD,
                "Gift card account",
                form.gift_card_accounts,
                current.gift_card_account_id,
                optional=True,
            )
        )
    tracking = fields.tracking_input(form)
    if tracking is not None:
        blocks.append(tracking)
    blocks += [
        fields.contact_input(current),
        fields.invoice_input(current),
        fields.start_input(form),
    ]
    for block in blocks:
        if isinstance(block, InputBlock) and block.block_id:
            block.block_id = ids.setup_block(block.block_id, revision)
            block.optional = True
    return View(
        type="modal",
        callback_id=ids.SETUP_VIEW,
        private_metadata=ids.encode(c=form.customer_id, s=form.store_code, r=revision),
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    ).to_dict()


def saved_view(saved: SetupSaved, *, customer_id: int, can_mark_ready: bool) -> dict[str, Any]:
    """The outcome, the checklist as it now stands, and the last step when it is the next one."""
    store = f"*{escape(saved.store_name)}* `{escape(saved.store_code)}`"
    where = f"{store} → *{escape(saved.organisation_name)}*"
    outcome = (
        f"{DONE} Posting set-up saved for {where}"
        if saved.changed
        else f"{DONE} Posting set-up for {where}: nothing changed"
    )
    blocks: list[Block] = [section(outcome)]
    if saved.warnings:
        blocks.append(context("\n".join(f":warning: {escape(w)}" for w in saved.warnings)))
    checklist = saved.checklist
    blocks.append(context(checklist_line(checklist)))
    if checklist.blocking is not None:
        blocks.append(context(f"Not ready for sync yet: {escape(checklist.blocking)}."))
    elif can_mark_ready and not checklist.ready:
        blocks.append(ActionsBlock(elements=[ready_button(customer_id, saved.store_code)]))
    return View(
        type="modal",
        callback_id=ids.SETUP_VIEW,
        private_metadata=ids.encode(c=customer_id, s=saved.store_code),
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Done"),
        blocks=blocks,
    ).to_dict()


def ready_view(store_code: str, checklist: Checklist) -> dict[str, Any]:
    """The last step done: the store is ready for sync."""
    return View(
        type="modal",
        callback_id=ids.SETUP_VIEW,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Done"),
        blocks=[
            section(f"{READY} `{escape(store_code)}` is ready for sync."),
            context(checklist_line(checklist)),
        ],
    ).to_dict()


def problems_note(form: SetupForm, problems: Mapping[str, str]) -> str:
    """What no longer holds, field by field, for a form shown again after the check."""
    names = {payment_field(t.id): f"Payments: {t.name}" for t in form.tenders}
    names.update(FIELD_NAMES)
    lines = [f"{names.get(field, field)}: {why}" for field, why in problems.items()]
    return clip("These choices do not hold in Xero: " + "; ".join(lines), MAX_NOTE)


def notice(text: str) -> dict[str, Any]:
    """A set-up modal that only says something, e.g. why the set-up cannot open. `text` may
    carry names from Xero or Cloud POS: it is escaped here (emoji codes still work)."""
    return notice_view(TITLE, escape(text))


def checklist_line(checklist: Checklist) -> str:
    """ "✅ Pro Plus licence · ✅ connected · ✅ plan eligible · ⬜ posting set-up 3 of 7 done ·
    ⬜ ready for sync", as Slack emoji codes."""
    setup = (
        "posting set-up complete"
        if checklist.setup_complete
        else f"posting set-up {checklist.steps_done} of {checklist.steps} done"
    )
    steps = [
        (checklist.pro_plus, "Pro Plus licence"),
        (checklist.connected, "connected"),
        (checklist.plan_eligible, "plan eligible"),
        (checklist.setup_complete, setup),
    ]
    marks = [f"{DONE if done else TO_DO} {name}" for done, name in steps]
    marks.append(f"{READY if checklist.ready else TO_DO} ready for sync")
    return " · ".join(marks)


def setup_button(customer_id: int, store_code: str) -> ButtonElement:
    return button("Set up posting", ids.SETUP_OPEN, ids.encode(c=customer_id, s=store_code))


def ready_button(customer_id: int, store_code: str) -> ButtonElement:
    return button(
        "Mark ready for sync",
        ids.SETUP_READY,
        ids.encode(c=customer_id, s=store_code),
        style="primary",
    )


def _waiting(text: str) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=ids.SETUP_VIEW,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Cancel"),
        blocks=[section(text)],
    ).to_dict()
