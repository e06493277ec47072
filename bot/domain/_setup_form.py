"""The set-up form of one store: what its organisation offers for each step, the stores whose
set-up can be copied, and how a copied store's payment types find their accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Store, StoreSetup

from ._catalogue import Catalogue
from ._posting_rules import (
    accounts_for,
    is_liability,
    is_revenue,
    takes_payments,
    takes_rounding,
    tax_rates_for,
    tracking_for,
)
from ._setup_context import SetupContext, checklist_of
from .dependencies import Dependencies
from .ports import Tender
from .posting_values import Choice, PostingChoices, SetupForm

MAX_COPY_SOURCES = 100


async def copy_sources(session: AsyncSession, context: SetupContext) -> tuple[Choice, ...]:
    rows = await session.execute(
        select(Store.code, Store.name)
        .join(StoreSetup, StoreSetup.store_id == Store.id)
        .where(
            Store.customer_id == context.customer_id,
            Store.id != context.store_id,
            StoreSetup.tenant_id == context.tenant_id,
        )
        .order_by(Store.code)
        .limit(MAX_COPY_SOURCES)
    )
    return tuple(Choice(code, f"{name} ({code})") for code, name in rows.all())


def setup_form(
    deps: Dependencies,
    context: SetupContext,
    books: Catalogue,
    tenders: list[Tender],
    current: PostingChoices,
    sources: tuple[Choice, ...],
    setup: StoreSetup | None,
) -> SetupForm:
    return SetupForm(
        customer_id=context.customer_id,
        customer_name=context.customer_name,
        store_code=context.store_code,
        store_name=context.store_name,
        organisation_name=context.tenant_name,
        tenders=tuple(tenders),
        sales_accounts=accounts_for(books, is_revenue),
        payment_accounts=accounts_for(books, takes_payments),
        rounding_accounts=accounts_for(books, takes_rounding),
        gift_card_accounts=accounts_for(books, is_liability),
        tax_rates=tax_rates_for(books),
        tracking=tracking_for(books),
        current=current,
        copy_sources=sources,
        earliest_start=context.linked_on,
        today=deps.clock().date(),
        checklist=checklist_of(context, setup),
    )


def matching_tender(tender: Tender, source: dict[str, object]) -> str | None:
    entries = [entry for entry in source.values() if isinstance(entry, dict)]
    for key in ("name", "type"):
        wanted = getattr(tender, key).casefold()
        for entry in entries:
            if str(entry.get(key, "")).casefold() == wanted and entry.get("account_id"):
                return str(entry["account_id"])
    return None
