"""One organisation's books as the emulated Xero keeps them: accounts, tax rates, tracking
categories and contacts, made from `chart` and a seed.

The seed is the tenant id, so an organisation has the same books in every run, every test and
after a sandbox restart, while two organisations still differ (which extra accounts they have,
which stores they track, which contacts they keep). The records are plain mutable dataclasses:
a test may change them directly, and `ledger` changes them for the control switches.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import chart

ACTIVE = "ACTIVE"
ARCHIVED = "ARCHIVED"
TAX_RATE_STATUSES = ("ACTIVE", "ARCHIVED", "DELETED", "PENDING")
"""What Xero's TaxRate.Status can be."""

_EPOCH = datetime(2023, 4, 1, tzinfo=UTC)
_SPREAD_MINUTES = 600 * 24 * 60


@dataclass
class EmulatedAccount:
    account_id: str
    code: str
    name: str
    type: str
    account_class: str
    status: str
    tax_type: str
    enable_payments: bool
    updated: datetime
    system_account: str = ""
    bank_account_number: str = ""
    bank_account_type: str = ""


@dataclass
class EmulatedTaxRate:
    tax_type: str
    name: str
    rate: float
    """Percent, as Xero's EffectiveRate: 20.0 for 20%."""
    report_tax_type: str
    status: str


@dataclass
class EmulatedTrackingOption:
    option_id: str
    name: str
    status: str


@dataclass
class EmulatedTrackingCategory:
    category_id: str
    name: str
    status: str
    options: list[EmulatedTrackingOption] = field(default_factory=list)


@dataclass
class EmulatedContact:
    contact_id: str
    name: str
    status: str
    updated: datetime
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    is_customer: bool = False
    is_supplier: bool = False


@dataclass
class Books:
    """An organisation's books; the lists are what the API serves, in this order."""

    accounts: list[EmulatedAccount]
    tax_rates: list[EmulatedTaxRate]
    tracking: list[EmulatedTrackingCategory]
    contacts: list[EmulatedContact]

    def account(self, code: str) -> EmulatedAccount | None:
        """The account with this code (Xero keeps codes unique); None for "" or no such code."""
        return next((a for a in self.accounts if code and a.code == code), None)

    def tax_rate(self, tax_type: str) -> EmulatedTaxRate | None:
        return next((r for r in self.tax_rates if r.tax_type == tax_type), None)

    def contact(self, contact_id: str) -> EmulatedContact | None:
        """By id, as Xero reads a GUID: in any letter case."""
        wanted = contact_id.lower()
        return next((c for c in self.contacts if c.contact_id.lower() == wanted), None)

    def contact_named(self, name: str) -> EmulatedContact | None:
        return next((c for c in self.contacts if c.name == name), None)


class _Seeded:
    """Ids and times derived from the tenant id: the same on every run, distinct per tenant."""

    def __init__(self, tenant_id: str) -> None:
        self.random = random.Random(f"xero-emulator books {tenant_id}")  # noqa: S311 - test data
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"https://xero.emulator/{tenant_id}")

    def id(self, kind: str, key: str) -> str:
        return str(uuid.uuid5(self._namespace, f"{kind}/{key}"))

    def time(self) -> datetime:
        return _EPOCH + timedelta(minutes=self.random.randrange(_SPREAD_MINUTES))


def seed_books(tenant_id: str) -> Books:
    """The books an organisation starts with: about 120 accounts, the UK VAT rates, two
    active tracking categories and an archived one, and 2,000 contacts with "Cash Sales"."""
    seeded = _Seeded(tenant_id)
    return Books(
        accounts=_accounts(seeded),
        tax_rates=[
            EmulatedTaxRate(t.tax_type, t.name, t.rate, t.report_tax_type, t.status)
            for t in chart.TAX_RATES
        ],
        tracking=_tracking(seeded),
        contacts=_contacts(seeded),
    )


def _accounts(seeded: _Seeded) -> list[EmulatedAccount]:
    rng = seeded.random
    extras = rng.sample(chart.EXTRA_ACCOUNTS, chart.EXTRA_ACCOUNT_COUNT)
    extras = [
        t._replace(status=ARCHIVED) if rng.random() < chart.EXTRA_ARCHIVED_SHARE else t
        for t in extras
    ]
    accounts = []
    for template in sorted((*chart.CHART, *extras), key=lambda t: (t.code or "~", t.name)):
        bank = template.type == "BANK"
        accounts.append(
            EmulatedAccount(
                account_id=seeded.id("account", template.code or template.name),
                code=template.code,
                name=template.name,
                type=template.type,
                account_class=chart.CLASS_OF_TYPE[template.type],
                status=template.status,
                tax_type=template.tax_type,
                enable_payments=template.payments,
                updated=seeded.time(),
                system_account=template.system,
                bank_account_number=f"{rng.randrange(10**7, 10**8)}" if bank else "",
                bank_account_type=_bank_type(template.name) if bank else "",
            )
        )
    return accounts


def _bank_type(name: str) -> str:
    if "Credit Card" in name:
        return "CREDITCARD"
    return "PAYPAL" if name == "PayPal" else "BANK"


def _tracking(seeded: _Seeded) -> list[EmulatedTrackingCategory]:
    rng = seeded.random
    towns = rng.sample(chart.TOWNS, chart.STORE_COUNT + 1)
    shapes = (
        ("Region", ACTIVE, [(name, ACTIVE) for name in chart.REGIONS]
         + [(name, ARCHIVED) for name in chart.ARCHIVED_REGIONS]),
        ("Store", ACTIVE, [(town, ACTIVE) for town in sorted(towns[:-1])]
         + [(f"{towns[-1]} (closed)", ARCHIVED)]),
        (chart.ARCHIVED_CATEGORY[0], ARCHIVED,
         [(name, ACTIVE) for name in chart.ARCHIVED_CATEGORY[1]]),
    )  # fmt: skip
    return [
        EmulatedTrackingCategory(
            seeded.id("tracking", name),
            name,
            status,
            [
                EmulatedTrackingOption(seeded.id(f"tracking/{name}", option), option, state)
                for option, state in options
            ],
        )
        for name, status, options in shapes
    ]


def _contacts(seeded: _Seeded) -> list[EmulatedContact]:
    """`chart.CONTACT_COUNT` contacts, about a third people and the rest businesses, each name
    once (Xero refuses a second contact of the same name); a few are archived."""
    rng = seeded.random
    people = [(first, last) for first in chart.FIRST_NAMES for last in chart.LAST_NAMES]
    companies = [
        " ".join(part for part in (word, kind, ending) if part)
        for word in chart.COMPANY_WORDS
        for kind in chart.COMPANY_KINDS
        for ending in chart.COMPANY_ENDINGS
    ]
    wanted = chart.CONTACT_COUNT - 1
    chosen_people = rng.sample(people, wanted // 3)
    chosen_companies = rng.sample(companies, wanted - len(chosen_people))
    contacts = [EmulatedContact(seeded.id("contact", chart.CASH_SALES), chart.CASH_SALES,
                                ACTIVE, seeded.time(), is_customer=True)]  # fmt: skip
    for first, last in chosen_people:
        name = f"{first} {last}"
        contacts.append(
            EmulatedContact(
                seeded.id("contact", name), name, ACTIVE, seeded.time(), first, last,
                f"{first}.{last}@example.com".lower().replace("'", ""),
                is_customer=True, is_supplier=rng.random() < 0.1,
            )
        )  # fmt: skip
    for name in chosen_companies:
        slug = "".join(ch for ch in name.lower() if ch.isalnum() or ch == " ").split()
        contacts.append(
            EmulatedContact(
                seeded.id("contact", name), name, ACTIVE, seeded.time(),
                email=f"{'.'.join(slug)}@example.net",
                is_customer=rng.random() < 0.6, is_supplier=rng.random() < 0.5,
            )
        )  # fmt: skip
    archived = round(chart.CONTACT_COUNT * chart.ARCHIVED_CONTACT_SHARE)
    for contact in rng.sample(contacts[1:], archived):
        contact.status = ARCHIVED
    return sorted(contacts, key=lambda c: (c.name.casefold(), c.contact_id))
