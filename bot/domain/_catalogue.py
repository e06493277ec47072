"""An organisation's chart of accounts, tax rates and tracking categories, kept a few minutes.

Opening a set-up form, answering a select's search and copying from another store all need
the same lists; Xero allows 60 calls a minute per organisation, so they are read once per
tenant and kept for `Dependencies.catalogue_lifetime`. Checks before saving or marking a
store ready read them afresh: they decide, so they must not trust a copy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from .dependencies import Dependencies
from .ports import XeroAccount, XeroTaxRate, XeroTrackingCategory


@dataclass(frozen=True)
class Catalogue:
    accounts: tuple[XeroAccount, ...]
    tax_rates: tuple[XeroTaxRate, ...]
    tracking: tuple[XeroTrackingCategory, ...]
    read_at: datetime

    def account(self, account_id: str | None) -> XeroAccount | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    def tax_rate(self, tax_type: str | None) -> XeroTaxRate | None:
        return next((rate for rate in self.tax_rates if rate.tax_type == tax_type), None)

    def category(self, category_id: str | None) -> XeroTrackingCategory | None:
        return next((c for c in self.tracking if c.category_id == category_id), None)


async def catalogue(
    deps: Dependencies, *, access_token: str, tenant_id: str, fresh: bool = False
) -> Catalogue:
    """The organisation's lists: the kept copy if it is recent enough and `fresh` is not asked."""
    kept = deps.catalogues.get(tenant_id)
    now = deps.clock()
    if not fresh and isinstance(kept, Catalogue) and now - kept.read_at < deps.catalogue_lifetime:
        return kept
    accounts, tax_rates, tracking = await asyncio.gather(
        deps.xero.accounts(access_token=access_token, tenant_id=tenant_id),
        deps.xero.tax_rates(access_token=access_token, tenant_id=tenant_id),
        deps.xero.tracking_categories(access_token=access_token, tenant_id=tenant_id),
    )
    read = Catalogue(tuple(accounts), tuple(tax_rates), tuple(tracking), read_at=now)
    deps.catalogues[tenant_id] = read
    return read
