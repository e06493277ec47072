"""The posting set-up modal's inputs read back into the domain's `PostingChoices`.

Every input may be blank (a set-up can be saved part-done). A value the bot never offered
(the "nothing fits" option, a tracking value in another shape, an invoice status it does not
know) is an error on its own input, so the agent sees where to choose again.
"""

from __future__ import annotations

from datetime import date

from bot.domain.errors import InvalidRequest
from bot.domain.posting_values import (
    CONTACT,
    GIFT_CARD_ACCOUNT,
    INVOICE_STATUS,
    ROUNDING_ACCOUNT,
    SALES_ACCOUNT,
    START_DATE,
    TAX_RATE,
    TRACKING,
    InvoiceStatus,
    PostingChoices,
    payment_field,
)
from handlers.slack import ids

from .state import ViewState

PAYMENT_PREFIX = payment_field("")
ACCOUNT_FIELDS = frozenset({SALES_ACCOUNT, ROUNDING_ACCOUNT, GIFT_CARD_ACCOUNT})
"""Their action id is their field name (`ids.SETUP_SALES`…)."""
NOTHING_CHOSEN = "Nothing in Xero fits here: leave it blank, or add one in Xero and open again."


def read_choices(state: ViewState) -> tuple[PostingChoices, dict[str, str]]:
    """The choices in the modal, and an error for each input whose value cannot be one."""
    accounts: dict[str, str | None] = {}
    payments: dict[str, str] = {}
    tracking: tuple[str | None, str | None] = (None, None)
    tax_type = contact_id = None
    invoice_status: InvoiceStatus | None = None
    start_date: date | None = None
    errors: dict[str, str] = {}
    for block_id in state.values:
        field = ids.setup_field(block_id)
        try:
            if field.startswith(PAYMENT_PREFIX):
                if chosen := _chosen(state, block_id, ids.SETUP_PAYMENT):
                    payments[field.removeprefix(PAYMENT_PREFIX)] = chosen
            elif field in ACCOUNT_FIELDS:
                accounts[field] = _chosen(state, block_id, field)
            elif field == TAX_RATE:
                tax_type = _chosen(state, block_id, ids.SETUP_TAX)
            elif field == TRACKING:
                tracking = _tracking(state, block_id)
            elif field == CONTACT:
                contact_id = _chosen(state, block_id, ids.SETUP_CONTACT)
            elif field == INVOICE_STATUS:
                invoice_status = _invoice_status(state, block_id)
            elif field == START_DATE:
                start_date = state.day(block_id, ids.SETUP_START, label="the start date")
        except InvalidRequest as error:
            errors[block_id] = error.message
    choices = PostingChoices(
        sales_account_id=accounts.get(SALES_ACCOUNT),
        tax_type=tax_type,
        payments=payments,
        rounding_account_id=accounts.get(ROUNDING_ACCOUNT),
        gift_card_account_id=accounts.get(GIFT_CARD_ACCOUNT),
        tracking_category_id=tracking[0],
        tracking_option_id=tracking[1],
        contact_id=contact_id,
        invoice_status=invoice_status,
        start_date=start_date,
    )
    return choices, errors


def _chosen(state: ViewState, block_id: str, action_id: str) -> str | None:
    value = state.selected(block_id, action_id)
    if value == ids.NOTHING_FITS:
        raise InvalidRequest(NOTHING_CHOSEN)
    return value


def _tracking(state: ViewState, block_id: str) -> tuple[str | None, str | None]:
    value = _chosen(state, block_id, ids.SETUP_TRACKING)
    return (None, None) if value is None else ids.tracking_ids(value)


def _invoice_status(state: ViewState, block_id: str) -> InvoiceStatus | None:
    value = state.radio(block_id, ids.SETUP_INVOICE, label="the invoice status")
    if value is None:
        return None
    try:
        return InvoiceStatus(value)
    except ValueError:
        raise InvalidRequest("Choose Draft or Authorised.") from None
