"""A store's posting set-up: the form offers what fits in its organisation, every choice is
checked against Xero again when saved, each change is audited with before and after, and
another store's set-up can be copied."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import Conflict, InvalidRequest, MissingScopes, SetupInvalid
from bot.domain.posting_values import PostingChoices
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import transaction
from storage.models import StoreSetup, XeroGrant
from tests.domain.posting_helpers import audited, complete_choices, connected, set_up
from tests.domain_helpers import AGENT, registered, snapshot

pytestmark = pytest.mark.asyncio


async def test_the_form_offers_what_fits_each_step_in_the_organisation(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    form = await domain.posting.form(deps, customer_id=store.customer_id, store_code="S001")
    books = emulator.books(store.organisation.tenant_id)

    def codes(choices: tuple[Any, ...]) -> set[str]:
        ids = {c.value for c in choices}
        return {a.code for a in books.accounts if a.account_id in ids}

    assert form.organisation_name == "Acme Ltd"
    assert [t.name for t in form.tenders] == ["Cash", "Card (EFTPOS)", "Gift card", "Voucher"]
    assert {"200", "260"} <= codes(form.sales_accounts)
    assert "205" not in codes(form.sales_accounts)  # archived
    assert "090" not in codes(form.sales_accounts)
    assert {"090", "615", "620"} <= codes(form.payment_accounts)
    assert "616" not in codes(form.payment_accounts)  # archived clearing account
    assert "200" not in codes(form.payment_accounts)
    assert "835" in codes(form.gift_card_accounts)
    assert "860" in codes(form.rounding_accounts)
    active_rates = {r.tax_type for r in books.tax_rates if r.status == "ACTIVE"}
    assert {c.value for c in form.tax_rates} == active_rates
    assert len(form.tracking) == 2
    assert form.checklist.steps_done == 0
    assert not form.checklist.ready
    assert form.earliest_start == deps.clock().date()


async def test_a_complete_set_up_is_stored_and_audited_with_before_and_after(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    choices = complete_choices(deps, emulator, store.organisation.tenant_id)
    saved = await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=choices, actor=AGENT
    )
    assert saved.changed
    assert saved.checklist.setup_complete
    assert not saved.warnings
    assert saved.checklist.blocking is None
    again = await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=choices, actor=AGENT
    )
    assert not again.changed
    other_sales = emulator.books(store.organisation.tenant_id).account("260")
    assert other_sales is not None
    changed = dataclasses.replace(choices, sales_account_id=other_sales.account_id)
    await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=changed, actor=AGENT
    )
    events = await audited(deps, "setup.changed")
    assert len(events) == 2
    assert events[0]["before"] is None
    assert events[0]["after"]["payments"]["T1"]["name"] == "Cash"
    assert events[1]["before"]["sales_account_id"] == choices.sales_account_id
    assert events[1]["after"]["sales_account_id"] == other_sales.account_id
    assert events[1]["after"]["contact_name"] == "Cash Sales"  # the name Xero gives
    form = await domain.posting.form(deps, customer_id=store.customer_id, store_code="s001")
    assert form.current.sales_account_id == other_sales.account_id
    assert form.current.payments == choices.payments


async def test_a_part_done_set_up_counts_its_steps(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    full = complete_choices(deps, emulator, store.organisation.tenant_id)
    part = PostingChoices(
        sales_account_id=full.sales_account_id, tax_type=full.tax_type, start_date=full.start_date
    )
    saved = await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=part, actor=AGENT
    )
    assert saved.checklist.steps_done == 3
    assert "3 of 7 done" in (saved.checklist.blocking or "")
    card = await domain.customers.get(deps, customer_id=store.customer_id)
    first = next(s for s in card.stores if s.code == "S001")
    assert first.checklist is not None
    assert first.checklist.steps_done == 3


async def test_choices_xero_no_longer_accepts_are_errors_on_their_fields_and_nothing_is_saved(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    store = await connected(deps, cloudpos, emulator)
    tenant = store.organisation.tenant_id
    choices = complete_choices(deps, emulator, tenant)
    books = emulator.books(tenant)
    emulator.archive_account(tenant, "200")
    emulator.set_tax_rate_status(tenant, "OUTPUT2", "DELETED")
    contact = books.contact_named("Cash Sales")
    assert contact is not None
    emulator.archive_contact(tenant, contact.contact_id)
    wrong_kind = books.account("310")  # cost of goods sold: no payments to it
    assert wrong_kind is not None
    choices = dataclasses.replace(
        choices,
        payments={**choices.payments, "T2": wrong_kind.account_id},
        start_date=deps.clock().date() - timedelta(days=3),
    )
    before = await snapshot(engine)
    with pytest.raises(SetupInvalid) as invalid:
        await domain.posting.save(
            deps, customer_id=store.customer_id, store_code="S001", choices=choices, actor=AGENT
        )
    assert set(invalid.value.problems) == {
        "sales_account", "tax_rate", "contact", "payment:T2", "start_date",
    }  # fmt: skip
    assert "200 · Sales is archived in Xero" in invalid.value.problems["sales_account"]
    assert "not a bank account" in invalid.value.problems["payment:T2"]
    assert "the store was connected then" in invalid.value.problems["start_date"]
    assert await snapshot(engine) == before


async def test_a_start_before_today_is_saved_with_a_warning(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Any
) -> None:
    store = await connected(deps, cloudpos, emulator)
    choices = complete_choices(deps, emulator, store.organisation.tenant_id)
    clock.advance(days=10)
    saved = await domain.posting.save(
        deps, customer_id=store.customer_id, store_code="S001", choices=choices, actor=AGENT
    )
    assert saved.changed
    assert "before today" in saved.warnings[0]


async def test_an_unknown_id_sent_for_a_choice_is_refused_on_its_field(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    choices = PostingChoices(sales_account_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(SetupInvalid) as invalid:
        await domain.posting.save(
            deps, customer_id=store.customer_id, store_code="S001", choices=choices, actor=AGENT
        )
    assert invalid.value.problems == {
        "sales_account": "This account no longer exists in Xero. Choose another."
    }


async def test_a_store_not_connected_cannot_be_set_up(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos, name="Solo", stores=1)
    with pytest.raises(Conflict, match="not connected to Xero"):
        await domain.posting.form(deps, customer_id=customer.id, store_code="S001")
    with pytest.raises(Exception, match="has no store 'S999'"):
        await domain.posting.form(deps, customer_id=customer.id, store_code="S999")


async def test_a_consent_without_the_contacts_scope_asks_for_a_new_link(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    async with transaction(deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
        assert grant is not None
        grant.scopes = "offline_access accounting.settings.read"
    with pytest.raises(MissingScopes) as missing:
        await domain.posting.form(deps, customer_id=store.customer_id, store_code="S001")
    assert missing.value.scopes == ("accounting.contacts.read",)
    assert "new consent link for S001" in missing.value.message


async def test_copying_fills_the_form_from_a_store_of_the_same_organisation(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(deps, cloudpos, emulator)
    choices = await set_up(deps, emulator, store)
    account = cloudpos.accounts["key-Acme"]
    second = account.stores[1]
    second.tenders = [
        dataclasses.replace(second.tenders[0], id="X9", name="CASH"),  # same name, other id
        dataclasses.replace(second.tenders[1], id="X8", name="Tap to pay"),  # same type
        dataclasses.replace(second.tenders[2], id="X7", name="Cheque", type="Cheque"),
    ]
    form = await domain.posting.form(deps, customer_id=store.customer_id, store_code="S002")
    assert [s.value for s in form.copy_sources] == ["S001"]
    copied = await domain.posting.copy_from(
        deps, customer_id=store.customer_id, store_code="S002", source_code="S001"
    )
    assert copied.current.sales_account_id == choices.sales_account_id
    assert copied.current.payments == {"X9": choices.payments["T1"], "X8": choices.payments["T2"]}
    async with transaction(deps.sessions, read_only=True) as session:
        assert await session.scalar(select(func.count()).select_from(StoreSetup)) == 1
    with pytest.raises(InvalidRequest, match="no posting set-up"):
        await domain.posting.copy_from(
            deps, customer_id=store.customer_id, store_code="S001", source_code="S002"
        )
