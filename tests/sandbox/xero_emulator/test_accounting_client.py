"""The bot's real `XeroClient` reading the emulator's books: every account, rate, category and
contact it parses must be the emulator's record, with nothing skipped as malformed, so the
emulator and the client cannot drift apart unnoticed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bot.clients.xero import XeroClient
from bot.domain.errors import XeroConnectionGone
from bot.domain.ports import (
    CONTACTS_PAGE,
    TokenSet,
    XeroAccount,
    XeroContact,
    XeroTaxRate,
    XeroTrackingCategory,
    XeroTrackingOption,
)
from tests.sandbox.xero_emulator.helpers import World, consent, make_client

CLIENT_LOG = "bot.clients.xero.accounting"


@pytest.fixture(autouse=True)
def _no_entry_skipped(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The client logs a warning for every entry it cannot read or a list it cuts short."""
    caplog.set_level(logging.WARNING, logger=CLIENT_LOG)
    yield
    assert [r.getMessage() for r in caplog.records if r.name == CLIENT_LOG] == []


async def test_the_client_reads_the_books_as_the_emulator_keeps_them(
    world: World, client: XeroClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    books = world.emulator.books(tenant)
    reach = {"access_token": acme.access_token, "tenant_id": tenant}

    accounts = await client.accounts(**reach)
    rates = await client.tax_rates(**reach)
    tracking = await client.tracking_categories(**reach)

    assert accounts == [
        XeroAccount(a.account_id, a.code, a.name, a.type, a.account_class, a.status,
                    a.enable_payments)
        for a in books.accounts
    ]  # fmt: skip
    assert rates == [
        XeroTaxRate(r.tax_type, r.name, r.status, f"{r.rate:.4f}") for r in books.tax_rates
    ]
    assert ("OUTPUT", "17.5000", "ARCHIVED") in [
        (r.tax_type, r.effective_rate, r.status) for r in rates
    ]
    assert tracking == [  # the client asks for archived ones: all of them, every option
        XeroTrackingCategory(
            c.category_id,
            c.name,
            c.status,
            tuple(XeroTrackingOption(o.option_id, o.name, o.status) for o in c.options),
        )
        for c in books.tracking
    ]


async def test_the_client_pages_through_every_active_contact(
    world: World, client: XeroClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    books = world.emulator.books(tenant)
    read: list[XeroContact] = []

    for page in range(1, 30):
        found = await client.contacts(access_token=acme.access_token, tenant_id=tenant, page=page)
        read += found
        if len(found) < CONTACTS_PAGE:
            break

    assert page == 20
    assert read == [
        XeroContact(c.contact_id, c.name, c.status) for c in books.contacts if c.status == "ACTIVE"
    ]
    empty = await client.contacts(access_token=acme.access_token, tenant_id=tenant, page=21)
    assert empty == []
    assert world.emulator.call_count("contacts") == 21


async def test_the_client_searches_and_reads_one_contact(
    world: World, client: XeroClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    reach = {"access_token": acme.access_token, "tenant_id": tenant}
    archived = next(c for c in world.emulator.books(tenant).contacts if c.status == "ARCHIVED")

    (cash,) = await client.contacts(**reach, search="  cash SALES ")
    again = await client.contact(**reach, contact_id=cash.contact_id.upper())
    old = await client.contact(**reach, contact_id=archived.contact_id)
    unknown = await client.contact(**reach, contact_id=str(uuid.uuid4()))
    bakeries = await client.contacts(**reach, search="Bakery", page=1)

    assert (cash.name, cash.status) == ("Cash Sales", "ACTIVE")
    assert again == cash
    assert old == XeroContact(archived.contact_id, archived.name, "ARCHIVED")
    assert unknown is None
    assert bakeries
    assert all("bakery" in c.name.lower() for c in bakeries)


async def test_what_a_switch_changes_the_client_reads_next(
    world: World, client: XeroClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    reach = {"access_token": acme.access_token, "tenant_id": tenant}
    (cash,) = await client.contacts(**reach, search="Cash Sales")

    world.emulator.archive_account(tenant, "620")
    world.emulator.set_tax_rate_status(tenant, "RROUTPUT", "DELETED")
    world.emulator.archive_contact(tenant, cash.contact_id)
    world.emulator.books(tenant).tracking[1].options[0].name = "Renamed in a test"

    accounts = {a.code: a for a in await client.accounts(**reach)}
    rates = {r.tax_type: r for r in await client.tax_rates(**reach)}
    tracking = await client.tracking_categories(**reach)

    assert accounts["620"].status == "ARCHIVED"
    assert rates["RROUTPUT"].status == "DELETED"
    assert tracking[1].options[0].name == "Renamed in a test"
    assert await client.contacts(**reach, search="Cash Sales") == []
    assert await client.contact(**reach, contact_id=cash.contact_id) == XeroContact(
        cash.contact_id, "Cash Sales", "ARCHIVED"
    )


async def test_a_tenant_or_scope_the_token_lacks_is_a_lost_connection_to_the_client(
    world: World, client: XeroClient, acme: TokenSet, browser: httpx.AsyncClient
) -> None:
    with pytest.raises(XeroConnectionGone):
        await client.accounts(access_token=acme.access_token, tenant_id=world.beta.tenant_id)
    async with make_client(world, scopes=("offline_access", "accounting.settings.read")) as old:
        tokens = await consent(browser, old, "Acme Ltd — STANDARD")
        reach = {"access_token": tokens.access_token, "tenant_id": world.acme.tenant_id}
        assert await old.tax_rates(**reach)
        with pytest.raises(XeroConnectionGone):
            await old.contacts(**reach)
