"""The modal for registering a customer, and what it turns into."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.domain.results import CustomerView
from handlers.slack import ids

from .common import clip, context, counted, escape, listing, section

REGISTER_TITLE = "Add a customer"
MAX_MODAL_TITLE = 24


def register_customer_view() -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=ids.REGISTER_CUSTOMER_VIEW,
        title=PlainTextObject(text=REGISTER_TITLE),
        submit=PlainTextObject(text="Add"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=ids.NAME_BLOCK,
                label=PlainTextObject(text="Customer name"),
                element=PlainTextInputElement(
                    action_id=ids.NAME_INPUT, max_length=ids.NAME_MAX_LENGTH
                ),
                hint=PlainTextObject(text="As the helpdesk knows them, e.g. Acme Bikes"),
            ),
            InputBlock(
                block_id=ids.KEY_BLOCK,
                label=PlainTextObject(text="Cloud POS API key"),
                element=PlainTextInputElement(
                    action_id=ids.KEY_INPUT, max_length=ids.KEY_MAX_LENGTH
                ),
                hint=PlainTextObject(
                    text="From Cloud POS backoffice: Setup → Configuration → External Access "
                    "To The Cloud POS API. It is checked, stored encrypted, and never shown again."
                ),
            ),
        ],
    ).to_dict()


def checking_view() -> dict[str, Any]:
    return notice_view(
        REGISTER_TITLE, "Checking the API key with Cloud POS… this can take a few seconds."
    )


def registered_view(customer: CustomerView) -> dict[str, Any]:
    stores = listing([f"`{escape(s.code)}` {escape(s.name)}" for s in customer.stores], limit=2500)
    count = counted(len(customer.stores), "store")
    return View(
        type="modal",
        title=PlainTextObject(text="Customer added"),
        close=PlainTextObject(text="Done"),
        blocks=[
            section(
                f":white_check_mark: *{escape(customer.name)}* (#{customer.id}) is registered "
                f"with a {escape(customer.licence)} licence and {count}: "
                f"{stores or 'none yet'}."
            ),
            context(f"Next: `/xero stores {clip(customer.name, 100)}`"),
        ],
    ).to_dict()


def failed_view(message: str) -> dict[str, Any]:
    return notice_view(
        REGISTER_TITLE,
        f":warning: {escape(message)}\nClose this and run `/xero customer add` again.",
    )


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something: progress, an outcome or an error."""
    return View(
        type="modal",
        title=PlainTextObject(text=clip(title, MAX_MODAL_TITLE)),
        close=PlainTextObject(text="Close"),
        blocks=[section(text)],
    ).to_dict()
