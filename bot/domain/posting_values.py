"""What a store's posting set-up looks like to the front doors: the choices, the form offering
them, and the checklist that ends in "ready for sync"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from .ports import Tender

SALES_ACCOUNT = "sales_account"
TAX_RATE = "tax_rate"
ROUNDING_ACCOUNT = "rounding_account"
GIFT_CARD_ACCOUNT = "gift_card_account"
TRACKING = "tracking"
CONTACT = "contact"
INVOICE_STATUS = "invoice_status"
START_DATE = "start_date"
PAYMENT_PREFIX = "payment:"
"""A tender's account is the field `payment:<tender id>`."""


def payment_field(tender_id: str) -> str:
    return f"{PAYMENT_PREFIX}{tender_id}"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    AUTHORISED = "AUTHORISED"


@dataclass(frozen=True)
class PostingChoices:
    """One store's choices, each an id in its organisation; None is a step not done yet."""

    sales_account_id: str | None = None
    tax_type: str | None = None
    payments: Mapping[str, str] = field(default_factory=dict)
    """Cloud POS tender id → the account its takings go to."""
    rounding_account_id: str | None = None
    gift_card_account_id: str | None = None
    tracking_category_id: str | None = None
    tracking_option_id: str | None = None
    contact_id: str | None = None
    contact_name: str | None = None
    invoice_status: InvoiceStatus | None = None
    start_date: date | None = None


@dataclass(frozen=True)
class Choice:
    """Something to pick in a select: the id it stands for and what people read."""

    value: str
    label: str


@dataclass(frozen=True)
class TrackingChoices:
    category_id: str
    name: str
    options: tuple[Choice, ...]


STEPS = (
    "sales account",
    "sales tax rate",
    "an account for every payment type",
    "rounding account",
    "invoice contact",
    "invoice status",
    "start date",
)
"""The steps a set-up needs to be complete; gift cards and tracking are optional."""


@dataclass(frozen=True)
class Checklist:
    """Pro Plus licence · connected · plan eligible · posting set-up complete · ready for sync."""

    pro_plus: bool
    connected: bool
    plan_eligible: bool
    steps_done: int
    ready: bool
    steps: int = len(STEPS)

    @property
    def setup_complete(self) -> bool:
        return self.steps_done >= self.steps

    @property
    def blocking(self) -> str | None:
        """The first step that does not hold, in words, or None when it may be marked ready."""
        if not self.pro_plus:
            return "the customer's Cloud POS licence is not Pro Plus"
        if not self.connected:
            return "the store is not connected to Xero"
        if not self.plan_eligible:
            return "its Xero organisation's plan cannot be integrated"
        if not self.setup_complete:
            return f"its posting set-up is not complete ({self.steps_done} of {self.steps} done)"
        return None


@dataclass(frozen=True)
class SetupForm:
    """Everything the set-up form of one store offers, read from Xero and Cloud POS just now."""

    customer_id: int
    customer_name: str
    store_code: str
    store_name: str
    organisation_name: str
    tenders: tuple[Tender, ...]
    sales_accounts: tuple[Choice, ...]
    payment_accounts: tuple[Choice, ...]
    rounding_accounts: tuple[Choice, ...]
    gift_card_accounts: tuple[Choice, ...]
    tax_rates: tuple[Choice, ...]
    tracking: tuple[TrackingChoices, ...]
    current: PostingChoices
    copy_sources: tuple[Choice, ...]
    """Other stores of the same organisation with a set-up (value: store code)."""
    earliest_start: date
    """The day the store was connected: sales before it were never the bot's to post."""
    today: date
    checklist: Checklist

    def label_of(self, choices: tuple[Choice, ...], value: str | None) -> Choice | None:
        """The offered choice for a stored id, or None when Xero no longer offers it."""
        return next((choice for choice in choices if choice.value == value), None)


@dataclass(frozen=True)
class SetupSaved:
    store_code: str
    store_name: str
    organisation_name: str
    checklist: Checklist
    changed: bool
    warnings: tuple[str, ...] = ()
