"""The ids that tie Block Kit elements to their listeners, and the values buttons carry.

A value says which customer, store, page or link a click is about. Slack signs the whole
payload, but a value is still input: the domain checks every id it is handed belongs
where the click says it does.
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain import posting_values as posting
from bot.domain.errors import InvalidRequest

COMMAND = "/xero"

SEND_LINK_FOR_STORE = "send_link_for_store"
STORE_PICKER = "store_picker"
SEND_LINK_FOR_SELECTED = "send_link_for_selected"
REFRESH_STORES = "refresh_stores"
SHOW_SUMMARY = "show_summary"
SHOW_STORES = "show_stores"
STORES_PAGE = "stores_page"
SUMMARY_PAGE = "summary_page"
DISCONNECT = "disconnect_organisation"
POST_LINK = "post_link_in_channel"
REVOKE_LINK = "revoke_link"
REPLACE_LINK = "replace_open_link"
KEEP_LINK = "keep_open_link"
CHOOSE_CUSTOMER = "choose_customer"
ORGANISATION_CHOICE = "organisation_choice"
CONFIRM_ORGANISATIONS = "confirm_organisations"
ALERT_RECONNECT = "alert_send_reconnect_link"
ALERT_SUMMARY = "alert_show_summary"
FRESH_LINK = "reminder_send_fresh_link"

REGISTER_CUSTOMER_VIEW = "register_customer"
NAME_BLOCK, NAME_INPUT = "customer_name", "name"
KEY_BLOCK, KEY_INPUT = "cloudpos_key", "api_key"
NAME_MAX_LENGTH, KEY_MAX_LENGTH = 200, 500
STORE_CHOICE_BLOCK_PREFIX = "store:"

SETUP_VIEW = "posting_setup"
SETUP_OPEN = "setup_posting"
SETUP_READY = "mark_ready_for_sync"
SETUP_COPY = "setup_copy_from"
SETUP_COPY_BLOCK = "setup_copy"
# The set-up modal's inputs: each block id is the domain's field name, and so is the action
# id, except that every tender's input (block `payment:<tender id>`) shares SETUP_PAYMENT.
SETUP_SALES = posting.SALES_ACCOUNT
SETUP_TAX = posting.TAX_RATE
SETUP_PAYMENT = "payment_account"
SETUP_ROUNDING = posting.ROUNDING_ACCOUNT
SETUP_GIFT_CARD = posting.GIFT_CARD_ACCOUNT
SETUP_TRACKING = posting.TRACKING
SETUP_CONTACT = posting.CONTACT
SETUP_INVOICE = posting.INVOICE_STATUS
SETUP_START = posting.START_DATE
NOTHING_FITS = "nothing_fits"
"""The only option of a select for which the organisation offers nothing: never a choice."""
TRACKING_SEPARATOR = "|"


def encode(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"))


def decode(value: str | None) -> dict[str, Any]:
    try:
        fields = json.loads(value or "")
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise InvalidRequest("That button is out of date. Run the command again.")
    return fields


def int_field(fields: dict[str, Any], name: str) -> int:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest("That button is out of date. Run the command again.")
    return value


def page_field(fields: dict[str, Any]) -> int:
    page = fields.get("p", 0)
    return page if isinstance(page, int) and not isinstance(page, bool) else 0


def payment_block(tender_id: str) -> str:
    """The block of a tender's account input: the domain's field name for it."""
    return posting.payment_field(tender_id)


def setup_block(field: str, revision: int) -> str:
    """The block of a set-up input. A copy from another store renders the form again with
    new block ids (`revision`), because Slack keeps what was chosen in an input whose block
    id stays the same, and the copied choices must show."""
    return f"{revision}/{field}" if revision else field


def setup_field(block_id: str) -> str:
    """The domain's field name of a set-up input's block: `setup_block` undone."""
    head, separator, field = block_id.partition("/")
    return field if separator and head.isdigit() else block_id


def tracking_value(category_id: str, option_id: str) -> str:
    """A tracking option as one select value: "<category id>|<option id>"."""
    return f"{category_id}{TRACKING_SEPARATOR}{option_id}"


def tracking_ids(value: str | None) -> tuple[str, str]:
    """The category and option ids of a `tracking_value`."""
    category, separator, option = (value or "").partition(TRACKING_SEPARATOR)
    if not separator or not category or not option or TRACKING_SEPARATOR in option:
        raise InvalidRequest("That tracking option is out of date. Open the set-up again.")
    return category, option
