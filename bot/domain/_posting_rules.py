"""Which accounts, rates and options fit each step of a posting set-up, and what is wrong with
a set of choices. Pure functions of what Xero and Cloud POS said: no I/O here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from storage.models import StoreSetup

from ._catalogue import Catalogue
from .ports import Tender, XeroAccount, XeroContact, XeroTaxRate
from .posting_values import (
    CONTACT,
    GIFT_CARD_ACCOUNT,
    ROUNDING_ACCOUNT,
    SALES_ACCOUNT,
    START_DATE,
    TAX_RATE,
    TRACKING,
    Choice,
    InvoiceStatus,
    PostingChoices,
    TrackingChoices,
    payment_field,
)

ACTIVE = "ACTIVE"
_REVENUE_TYPES = frozenset({"REVENUE", "SALES", "OTHERINCOME"})
_INVOICE_STATUSES = frozenset(status.value for status in InvoiceStatus)


def is_revenue(account: XeroAccount) -> bool:
    return account.status == ACTIVE and (
        account.account_class == "REVENUE" or account.type in _REVENUE_TYPES
    )


def takes_payments(account: XeroAccount) -> bool:
    """A bank account, or one with payments enabled (a clearing account)."""
    return account.status == ACTIVE and (account.type == "BANK" or account.enable_payments)


def takes_rounding(account: XeroAccount) -> bool:
    return (
        account.status == ACTIVE
        and account.type != "BANK"
        and (account.account_class in {"EXPENSE", "LIABILITY", "REVENUE"})
    )


def is_liability(account: XeroAccount) -> bool:
    return account.status == ACTIVE and account.account_class == "LIABILITY"


def is_active_rate(rate: XeroTaxRate) -> bool:
    return rate.status == ACTIVE


def account_label(account: XeroAccount) -> str:
    return f"{account.code} · {account.name}" if account.code else account.name


def rate_label(rate: XeroTaxRate) -> str:
    return f"{rate.name} ({rate.effective_rate.rstrip('0').rstrip('.') or '0'}%)"


def accounts_for(catalogue: Catalogue, fits: Callable[[XeroAccount], bool]) -> tuple[Choice, ...]:
    fitting = sorted(
        (a for a in catalogue.accounts if fits(a)), key=lambda a: (a.code or "~", a.name)
    )
    return tuple(Choice(a.account_id, account_label(a)) for a in fitting)


def tax_rates_for(catalogue: Catalogue) -> tuple[Choice, ...]:
    rates = sorted((r for r in catalogue.tax_rates if is_active_rate(r)), key=lambda r: r.name)
    return tuple(Choice(rate.tax_type, rate_label(rate)) for rate in rates)


def tracking_for(catalogue: Catalogue) -> tuple[TrackingChoices, ...]:
    return tuple(
        TrackingChoices(
            category.category_id,
            category.name,
            tuple(
                Choice(option.option_id, option.name)
                for option in category.options
                if option.status == ACTIVE
            ),
        )
        for category in catalogue.tracking
        if category.status == ACTIVE
    )


def problems(
    choices: PostingChoices,
    catalogue: Catalogue,
    *,
    tenders: Sequence[Tender],
    contact: XeroContact | None,
    earliest_start: date,
) -> dict[str, str]:
    """Each field at fault with what is wrong, as its user should read it. Blank steps are
    not problems (a set-up may be saved part-done); choices that no longer hold are."""
    found: dict[str, str] = {}

    def account(field: str, account_id: str | None, fits: Callable[[XeroAccount], bool],
                kind: str) -> None:  # fmt: skip
        if account_id is None:
            return
        chosen = catalogue.account(account_id)
        if chosen is None:
            found[field] = "This account no longer exists in Xero. Choose another."
        elif chosen.status != ACTIVE:
            found[field] = f"{account_label(chosen)} is archived in Xero. Choose another."
        elif not fits(chosen):
            found[field] = f"{account_label(chosen)} is not {kind}. Choose another."

    account(SALES_ACCOUNT, choices.sales_account_id, is_revenue, "a revenue account")
    for tender in tenders:
        account(
            payment_field(tender.id),
            choices.payments.get(tender.id),
            takes_payments,
            "a bank account or an account with payments enabled",
        )
    account(ROUNDING_ACCOUNT, choices.rounding_account_id, takes_rounding, "fit for rounding")
    account(GIFT_CARD_ACCOUNT, choices.gift_card_account_id, is_liability, "a liability account")
    if choices.tax_type is not None:
        rate = catalogue.tax_rate(choices.tax_type)
        if rate is None or not is_active_rate(rate):
            found[TAX_RATE] = "This tax rate is no longer active in Xero. Choose another."
    tracking = _tracking_problem(choices, catalogue)
    if tracking:
        found[TRACKING] = tracking
    if choices.contact_id is not None and (contact is None or contact.status != ACTIVE):
        found[CONTACT] = "This contact is archived or gone in Xero. Choose another."
    if choices.start_date is not None and choices.start_date < earliest_start:
        found[START_DATE] = (
            f"Choose {earliest_start:%-d %B %Y} or later: the store was connected then."
        )
    return found


def _tracking_problem(choices: PostingChoices, catalogue: Catalogue) -> str | None:
    if choices.tracking_category_id is None and choices.tracking_option_id is None:
        return None
    category = catalogue.category(choices.tracking_category_id)
    if category is None or category.status != ACTIVE:
        return "This tracking category is archived or gone in Xero. Choose another."
    option = next((o for o in category.options if o.option_id == choices.tracking_option_id), None)
    if option is None or option.status != ACTIVE:
        return f"This option of {category.name} is archived or gone in Xero. Choose another."
    return None


def steps_done(setup: StoreSetup | None) -> int:
    """How many of the seven required steps the stored set-up has done."""
    if setup is None:
        return 0
    payments = setup.payments or {}
    every_tender = bool(payments) and all(
        isinstance(entry, dict) and entry.get("account_id") for entry in payments.values()
    )
    return sum(
        (
            setup.sales_account_id is not None,
            setup.tax_type is not None,
            every_tender,
            setup.rounding_account_id is not None,
            setup.contact_id is not None,
            setup.invoice_status is not None,
            setup.start_date is not None,
        )
    )


def choices_of(setup: StoreSetup | None) -> PostingChoices:
    if setup is None:
        return PostingChoices()
    payments = {
        tender_id: entry["account_id"]
        for tender_id, entry in (setup.payments or {}).items()
        if isinstance(entry, dict) and entry.get("account_id")
    }
    status = setup.invoice_status
    return PostingChoices(
        sales_account_id=setup.sales_account_id,
        tax_type=setup.tax_type,
        payments=payments,
        rounding_account_id=setup.rounding_account_id,
        gift_card_account_id=setup.gift_card_account_id,
        tracking_category_id=setup.tracking_category_id,
        tracking_option_id=setup.tracking_option_id,
        contact_id=setup.contact_id,
        contact_name=setup.contact_name,
        invoice_status=InvoiceStatus(status) if status in _INVOICE_STATUSES else None,
        start_date=setup.start_date,
    )


def recorded(choices: PostingChoices, tenders: Sequence[Tender]) -> dict[str, object]:
    """The choices as stored and audited: plain JSON values, tenders by id with their names."""
    return {
        "sales_account_id": choices.sales_account_id,
        "tax_type": choices.tax_type,
        "payments": {
            tender.id: {
                "name": tender.name,
                "type": tender.type,
                "account_id": choices.payments.get(tender.id),
            }
            for tender in tenders
        },
        "rounding_account_id": choices.rounding_account_id,
        "gift_card_account_id": choices.gift_card_account_id,
        "tracking_category_id": choices.tracking_category_id,
        "tracking_option_id": choices.tracking_option_id,
        "contact_id": choices.contact_id,
        "contact_name": choices.contact_name,
        "invoice_status": choices.invoice_status.value if choices.invoice_status else None,
        "start_date": choices.start_date.isoformat() if choices.start_date else None,
    }
