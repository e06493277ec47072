"""An organisation's books: seeded from its tenant id, kept in the emulator's state, changed by
the control switches, and kept by the snapshot as those changes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest

from sandbox.xero_emulator import XeroEmulator, snapshot
from sandbox.xero_emulator.books import seed_books
from tests.conftest import Clock
from tests.sandbox.xero_emulator.helpers import CLIENT_ID, CLIENT_SECRET, FIXED_TENANT, World

# --- what an organisation's books hold ------------------------------------------------------


def test_the_same_tenant_always_has_the_same_books_and_another_tenant_others() -> None:
    books = seed_books(FIXED_TENANT)
    other = seed_books("9d8e7f60-1a2b-4c3d-8e9f-0a1b2c3d4e5f")

    assert books == seed_books(FIXED_TENANT)
    ids = {a.account_id for a in books.accounts} | {c.contact_id for c in books.contacts}
    other_ids = {a.account_id for a in other.accounts} | {c.contact_id for c in other.contacts}
    assert not ids & other_ids
    assert {a.code for a in books.accounts} != {a.code for a in other.accounts}
    assert [c.name for c in books.contacts] != [c.name for c in other.contacts]


def test_the_chart_has_what_a_shop_posts_to_and_archived_accounts() -> None:
    books = seed_books(FIXED_TENANT)
    by_code = {a.code: a for a in books.accounts if a.code}

    assert 110 <= len(books.accounts) <= 130
    assert len(by_code) == len(books.accounts) - 1  # codes are unique; PayPal has none
    assert [a.name for a in books.accounts if not a.code] == ["PayPal"]
    assert sum(a.status == "ARCHIVED" for a in books.accounts) >= 3
    expected = {
        "090": ("Business Bank Account", "BANK", "ASSET", False),
        "200": ("Sales", "REVENUE", "REVENUE", False),
        "260": ("Other Revenue", "REVENUE", "REVENUE", False),
        "615": ("Card clearing", "CURRENT", "ASSET", True),
        "620": ("Cash clearing", "CURRENT", "ASSET", True),
        "835": ("Gift card liability", "CURRLIAB", "LIABILITY", False),
        "860": ("Rounding", "CURRLIAB", "LIABILITY", False),
    }
    for code, (name, kind, account_class, payments) in expected.items():
        account = by_code[code]
        assert (account.name, account.type, account.account_class) == (name, kind, account_class)
        assert (account.enable_payments, account.status) == (payments, "ACTIVE")
    assert by_code["616"].status == "ARCHIVED"  # an old clearing account, payments still on
    assert by_code["616"].enable_payments
    assert by_code["090"].bank_account_number.isdigit()


def test_tax_rates_tracking_and_contacts() -> None:
    books = seed_books(FIXED_TENANT)

    statuses = Counter(rate.status for rate in books.tax_rates)
    assert statuses["ACTIVE"] >= 8
    assert statuses["ARCHIVED"] >= 1
    assert statuses["DELETED"] >= 1
    sales_vat = books.tax_rate("OUTPUT2")
    assert sales_vat is not None
    assert (sales_vat.name, sales_vat.rate) == ("20% (VAT on Income)", 20.0)

    tracking = {(c.name, c.status): c for c in books.tracking}
    assert set(tracking) == {
        ("Region", "ACTIVE"),
        ("Store", "ACTIVE"),
        ("Department (old)", "ARCHIVED"),
    }
    for name in ("Region", "Store"):
        options = Counter(option.status for option in tracking[name, "ACTIVE"].options)
        assert options["ACTIVE"] >= 4
        assert options["ARCHIVED"] == 1

    assert len(books.contacts) == 2000
    assert len({c.name for c in books.contacts}) == 2000
    cash = books.contact_named("Cash Sales")
    assert cash is not None
    assert cash.status == "ACTIVE"
    assert books.contact(cash.contact_id.upper()) is cash
    assert sum(c.status == "ARCHIVED" for c in books.contacts) == 60
    names = [c.name.casefold() for c in books.contacts]
    assert names == sorted(names)


def test_the_state_keeps_each_organisations_books(world: World) -> None:
    books = world.emulator.books(world.acme.tenant_id)

    assert world.emulator.books(world.acme.tenant_id) is books
    assert books == seed_books(world.acme.tenant_id)
    with pytest.raises(ValueError, match="no such organisation"):
        world.emulator.books("no-such-tenant")


# --- the control switches -------------------------------------------------------------------


def test_the_switches_change_the_books(world: World, clock: Clock) -> None:
    tenant = world.acme.tenant_id
    books = world.emulator.books(tenant)
    contact = books.contacts[0]
    clock.advance(days=1)

    world.emulator.archive_account(tenant, "200")
    world.emulator.set_tax_rate_status(tenant, "RROUTPUT", "DELETED")
    world.emulator.archive_contact(tenant, contact.contact_id.upper())

    sales = books.account("200")
    assert sales is not None
    assert (sales.status, sales.updated) == ("ARCHIVED", clock.now)
    rate = books.tax_rate("RROUTPUT")
    assert rate is not None
    assert rate.status == "DELETED"
    assert (contact.status, contact.updated) == ("ARCHIVED", clock.now)
    world.emulator.set_tax_rate_status(tenant, "RROUTPUT", "ACTIVE")
    assert rate.status == "ACTIVE"
    elsewhere = world.emulator.books(world.beta.tenant_id).account("200")
    assert elsewhere is not None
    assert elsewhere.status == "ACTIVE"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda e, t: e.archive_account(t, "999"), "no account with code '999'"),
        (lambda e, t: e.archive_account(t, ""), "no account with code ''"),
        (lambda e, t: e.set_tax_rate_status(t, "OUTPUT2", "GONE"), "status must be one of"),
        (lambda e, t: e.set_tax_rate_status(t, "VAT99", "ARCHIVED"), "no tax rate 'VAT99'"),
        (lambda e, t: e.archive_contact(t, "not-an-id"), "no contact with that id"),
        (lambda e, _t: e.archive_account("no-such-tenant", "200"), "no such organisation"),
    ],
)
def test_a_switch_refuses_what_the_books_do_not_have(
    world: World, change: Callable[[XeroEmulator, str], None], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        change(world.emulator, world.acme.tenant_id)

    assert world.emulator.book_changes == {}


# --- the snapshot keeps what the switches changed -------------------------------------------


def test_a_restored_snapshot_has_the_changed_books(world: World, clock: Clock) -> None:
    tenant = world.acme.tenant_id
    contact = world.emulator.books(tenant).contacts[5]
    clock.advance(hours=3)
    world.emulator.archive_account(tenant, "620")
    world.emulator.set_tax_rate_status(tenant, "OUTPUT2", "ARCHIVED")
    world.emulator.archive_contact(tenant, contact.contact_id)
    saved = json.loads(json.dumps(snapshot.snapshot(world.emulator)))

    fresh = XeroEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    snapshot.restore(fresh, saved)

    assert fresh.books(tenant) == world.emulator.books(tenant)
    assert fresh.books(world.beta.tenant_id) == seed_books(world.beta.tenant_id)
    restored = fresh.books(tenant).contact(contact.contact_id)
    assert restored is not None
    assert (restored.status, restored.updated) == ("ARCHIVED", clock.now)


def test_a_snapshot_from_before_books_restores_seeded_books(world: World) -> None:
    tenant = world.acme.tenant_id
    saved = snapshot.snapshot(world.emulator)
    del saved["book_changes"]
    world.emulator.archive_account(tenant, "200")

    snapshot.restore(world.emulator, saved)

    assert world.emulator.books(tenant) == seed_books(tenant)
    assert world.emulator.book_changes == {}
