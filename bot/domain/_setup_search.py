"""What an external select of the set-up modal offers as the agent types: accounts, tax rates
and tracking options from the organisation's kept books, contacts from Xero itself.

The one asking waits only a few seconds for these answers, so nothing here asks Cloud POS (one
request a second per key) and the books come from the copy `_catalogue` keeps.
"""

from __future__ import annotations

from collections.abc import Callable

from . import grants
from ._catalogue import Catalogue, catalogue
from ._posting_rules import (
    accounts_for,
    is_liability,
    is_revenue,
    takes_payments,
    takes_rounding,
    tax_rates_for,
    tracking_for,
)
from ._session import transaction
from ._setup_context import SetupContext, require_scopes, setup_context
from .dependencies import Dependencies
from .errors import InvalidRequest
from .ports import CONTACTS_PAGE
from .posting_values import (
    GIFT_CARD_ACCOUNT,
    ROUNDING_ACCOUNT,
    SALES_ACCOUNT,
    TAX_RATE,
    Choice,
    TrackingChoices,
)

MAX_SEARCH = 100
PAYMENT_ACCOUNT = "payment"
"""Every payment type offers the same accounts, so their searches share one name."""
_LISTS: dict[str, Callable[[Catalogue], tuple[Choice, ...]]] = {
    SALES_ACCOUNT: lambda books: accounts_for(books, is_revenue),
    PAYMENT_ACCOUNT: lambda books: accounts_for(books, takes_payments),
    ROUNDING_ACCOUNT: lambda books: accounts_for(books, takes_rounding),
    GIFT_CARD_ACCOUNT: lambda books: accounts_for(books, is_liability),
    TAX_RATE: tax_rates_for,
}
SEARCHABLE = frozenset(_LISTS)


async def find_choices(
    deps: Dependencies, *, customer_id: int, store_code: str, field: str, search: str
) -> tuple[Choice, ...]:
    """The choices of `field` (one of `SEARCHABLE`) whose label contains `search`."""
    listing = _LISTS.get(field)
    if listing is None:
        raise InvalidRequest("That list is out of date. Open the set-up again.")
    books = await _books(deps, customer_id=customer_id, store_code=store_code)
    wanted = _words(search)
    return tuple(c for c in listing(books) if _matches(c.label, wanted))


async def find_tracking(
    deps: Dependencies, *, customer_id: int, store_code: str, search: str
) -> tuple[TrackingChoices, ...]:
    """The tracking categories with the options whose name (or category's) contains `search`."""
    books = await _books(deps, customer_id=customer_id, store_code=store_code)
    wanted = _words(search)
    found = []
    for category in tracking_for(books):
        options = tuple(
            o for o in category.options if _matches(f"{category.name} {o.label}", wanted)
        )
        if options:
            found.append(TrackingChoices(category.category_id, category.name, options))
    return tuple(found)


async def find_contacts(
    deps: Dependencies, *, customer_id: int, store_code: str, search: str
) -> list[Choice]:
    """Active contacts of the store's organisation whose name contains `search`, one page."""
    context = await _context(deps, customer_id=customer_id, store_code=store_code)
    access_token = await grants.access_token(deps, grant_id=context.grant_id)
    found = await deps.xero.contacts(
        access_token=access_token, tenant_id=context.tenant_id, search=search.strip()[:MAX_SEARCH]
    )
    return [Choice(c.contact_id, c.name) for c in found[:CONTACTS_PAGE] if c.status == "ACTIVE"]


async def _context(deps: Dependencies, *, customer_id: int, store_code: str) -> SetupContext:
    async with transaction(deps, read_only=True) as session:
        context = await setup_context(deps, session, customer_id=customer_id, store_code=store_code)
    require_scopes(context)
    return context


async def _books(deps: Dependencies, *, customer_id: int, store_code: str) -> Catalogue:
    context = await _context(deps, customer_id=customer_id, store_code=store_code)
    access_token = await grants.access_token(deps, grant_id=context.grant_id)
    return await catalogue(deps, access_token=access_token, tenant_id=context.tenant_id)


def _words(search: str) -> list[str]:
    return search[:MAX_SEARCH].casefold().split()


def _matches(label: str, words: list[str]) -> bool:
    folded = label.casefold()
    return all(word in folded for word in words)
