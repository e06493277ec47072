"""A customer's connected stores and a complete posting set-up from the emulated books."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot import domain
from bot.domain import Dependencies
from bot.domain.posting_values import InvoiceStatus, PostingChoices
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import EmulatedOrganisation, XeroEmulator
from storage.engine import transaction
from storage.models import AuditEvent
from tests.domain_helpers import AGENT, connected_organisation, find_customer


@dataclass(frozen=True)
class Connected:
    customer_id: int
    organisation: EmulatedOrganisation
    codes: tuple[str, ...]


async def connected(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    *,
    name: str = "Acme",
    organisation: str = "Acme Ltd",
    stores: int = 2,
) -> Connected:
    org = await connected_organisation(
        deps, cloudpos, emulator, name=name, organisation=organisation, stores=stores
    )
    customer = await find_customer(deps, query=name)
    return Connected(customer.id, org, tuple(store.code for store in customer.stores))


def complete_choices(deps: Dependencies, emulator: XeroEmulator, tenant_id: str) -> PostingChoices:
    """Every step chosen from what the organisation offers: cash to cash clearing, cards and
    vouchers to card clearing, gift cards to the bank."""
    books = emulator.books(tenant_id)

    def account(code: str) -> str:
        found = books.account(code)
        assert found is not None, code
        return found.account_id

    contact = books.contact_named("Cash Sales")
    assert contact is not None
    return PostingChoices(
        sales_account_id=account("200"),
        tax_type="OUTPUT2",
        payments={
            "T1": account("620"),
            "T2": account("615"),
            "T3": account("090"),
            "T4": account("615"),
        },
        rounding_account_id=account("860"),
        contact_id=contact.contact_id,
        invoice_status=InvoiceStatus.DRAFT,
        start_date=deps.clock().date(),
    )


async def set_up(
    deps: Dependencies, emulator: XeroEmulator, store: Connected, code: str = "S001"
) -> PostingChoices:
    """Save a complete set-up for store `code`; the choices saved."""
    choices = complete_choices(deps, emulator, store.organisation.tenant_id)
    await domain.posting.save(
        deps, customer_id=store.customer_id, store_code=code, choices=choices, actor=AGENT
    )
    return choices


async def audited(deps: Dependencies, action: str) -> list[dict[str, Any]]:
    """The details of every audit event of `action`, oldest first."""
    async with transaction(deps.sessions, read_only=True) as session:
        rows = await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows)


async def ready_store(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> Connected:
    """A connected customer whose first store is set up and ready for sync."""
    store = await connected(deps, cloudpos, emulator)
    await set_up(deps, emulator, store, store.codes[0])
    await domain.posting.mark_ready(
        deps, customer_id=store.customer_id, store_code=store.codes[0], actor=AGENT
    )
    return store
