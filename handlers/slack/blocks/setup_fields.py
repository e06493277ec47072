"""The inputs of the posting set-up modal, one function each, with Slack's limits applied.

Every select offers what the domain's `SetupForm` offers, as "<code> · <name>" (`Choice.label`)
in plain text, which Slack shows literally. A list too long for a static select (more than
100 options) becomes an external select with the same action id, whose options the handler
answers. A required select the organisation offers nothing for keeps its input, with a single
option `ids.NOTHING_FITS` and a hint saying so: the form still shows every step, and the
handler refuses that value on submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    InputInteractiveElement,
    Option,
    OptionGroup,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)

from bot.domain.posting_values import (
    Choice,
    InvoiceStatus,
    PostingChoices,
    SetupForm,
    TrackingChoices,
)
from handlers.slack import ids

from .common import clip

MAX_OPTIONS = 100
MAX_OPTION_GROUPS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_PLACEHOLDER = 150
MAX_INLINE_ERROR = 150
"""Slack shows at most this much of an error on an input."""

NOTHING_FITS_TEXT = "Nothing fits in this organisation"
NOTHING_FITS_HINT = "Xero offers nothing that fits: add it in Xero, then open the set-up again."
INVOICE_STATUS_TEXT = {InvoiceStatus.DRAFT: "Draft", InvoiceStatus.AUTHORISED: "Authorised"}


def option(text: str, value: str) -> Option:
    return Option(text=PlainTextObject(text=clip(text, MAX_OPTION_TEXT)), value=value)


def choice_option(choice: Choice) -> Option:
    """A choice as a select offers it; the handler answering an external select uses it too."""
    return option(choice.label, choice.value)


def tracking_option(category: TrackingChoices, choice: Choice) -> Option:
    """A tracking option, its value naming its category too (`ids.tracking_value`)."""
    return option(choice.label, ids.tracking_value(category.category_id, choice.value))


def offerable(choices: Sequence[Choice]) -> list[Choice]:
    """The choices Slack can carry: a value over 150 characters cannot be an option at all
    (cutting it would submit another id), so such a choice is left out rather than broken."""
    return [choice for choice in choices if len(choice.value) <= MAX_OPTION_VALUE]


def select_input(
    block_id: str,
    action_id: str,
    label: str,
    choices: Sequence[Choice],
    chosen: str | None,
    *,
    placeholder: str = "Choose an account",
    optional: bool = False,
) -> InputBlock:
    """A select of `choices` with `chosen` picked when it is still one of them."""
    offered = offerable(choices)
    initial = next((choice_option(c) for c in offered if c.value == chosen), None)
    hint = None
    element: InputInteractiveElement
    if not offered:
        element = StaticSelectElement(
            action_id=action_id,
            placeholder=_text(placeholder, MAX_PLACEHOLDER),
            options=[option(NOTHING_FITS_TEXT, ids.NOTHING_FITS)],
        )
        hint = _text(NOTHING_FITS_HINT, MAX_HINT)
    elif len(offered) > MAX_OPTIONS:
        element = ExternalDataSelectElement(
            action_id=action_id,
            placeholder=_text(f"{placeholder} (type to search)", MAX_PLACEHOLDER),
            min_query_length=0,
            initial_option=initial,
        )
    else:
        element = StaticSelectElement(
            action_id=action_id,
            placeholder=_text(placeholder, MAX_PLACEHOLDER),
            options=[choice_option(c) for c in offered],
            initial_option=initial,
        )
    return InputBlock(
        block_id=block_id,
        label=_text(label, MAX_LABEL),
        element=element,
        hint=hint,
        optional=optional,
    )


def tracking_input(form: SetupForm) -> InputBlock | None:
    """One option group per tracking category; None when the organisation tracks nothing."""
    categories = [
        (category, choices)
        for category in form.tracking
        if (
            choices := [
                choice
                for choice in category.options
                if len(ids.tracking_value(category.category_id, choice.value)) <= MAX_OPTION_VALUE
            ]
        )
    ]
    if not categories:
        return None
    current = form.current
    initial = next(
        (
            tracking_option(category, choice)
            for category, choices in categories
            if category.category_id == current.tracking_category_id
            for choice in choices
            if choice.value == current.tracking_option_id
        ),
        None,
    )
    placeholder = _text("Choose a tracking option", MAX_PLACEHOLDER)
    element: InputInteractiveElement
    too_many = len(categories) > MAX_OPTION_GROUPS or any(
        len(choices) > MAX_OPTIONS for _, choices in categories
    )
    if too_many:
        element = ExternalDataSelectElement(
            action_id=ids.SETUP_TRACKING,
            placeholder=placeholder,
            min_query_length=0,
            initial_option=initial,
        )
    else:
        element = StaticSelectElement(
            action_id=ids.SETUP_TRACKING,
            placeholder=placeholder,
            option_groups=[
                OptionGroup(
                    label=_text(category.name, MAX_OPTION_TEXT),
                    options=[tracking_option(category, choice) for choice in choices],
                )
                for category, choices in categories
            ],
            initial_option=initial,
        )
    return InputBlock(
        block_id=ids.SETUP_TRACKING,
        label=_text("Tracking", MAX_LABEL),
        element=element,
        optional=True,
    )


def contact_input(current: PostingChoices) -> InputBlock:
    """Xero contacts are searched as the agent types: the handler answers the options."""
    initial = (
        option(current.contact_name or current.contact_id, current.contact_id)
        if current.contact_id and len(current.contact_id) <= MAX_OPTION_VALUE
        else None
    )
    return InputBlock(
        block_id=ids.SETUP_CONTACT,
        label=_text("Contact for the daily sales invoice", MAX_LABEL),
        element=ExternalDataSelectElement(
            action_id=ids.SETUP_CONTACT,
            placeholder=_text("Search Xero contacts", MAX_PLACEHOLDER),
            min_query_length=1,
            initial_option=initial,
        ),
    )


def invoice_input(current: PostingChoices) -> InputBlock:
    options = {status: option(text, status.value) for status, text in INVOICE_STATUS_TEXT.items()}
    return InputBlock(
        block_id=ids.SETUP_INVOICE,
        label=_text("Invoice status", MAX_LABEL),
        element=RadioButtonsElement(
            action_id=ids.SETUP_INVOICE,
            options=list(options.values()),
            initial_option=options.get(current.invoice_status) if current.invoice_status else None,
        ),
    )


def start_input(form: SetupForm) -> InputBlock:
    start = form.current.start_date or form.today
    return InputBlock(
        block_id=ids.SETUP_START,
        label=_text("Start date", MAX_LABEL),
        element=DatePickerElement(action_id=ids.SETUP_START, initial_date=start.isoformat()),
        hint=_text(
            f"Not before {day(form.earliest_start)}. Sales before today may already be in Xero.",
            MAX_HINT,
        ),
    )


def day(moment: date) -> str:
    """ "2 Nov 2026": one way of writing a day, unambiguous wherever the reader is."""
    return f"{moment.day} {moment:%b %Y}"


def _text(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit))
