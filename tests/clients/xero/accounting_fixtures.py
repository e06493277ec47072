"""Test data for the accounting reads: Xero's URLs and answers, and each read as a call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import respx

from bot.clients.xero import XeroClient
from tests.clients.xero.xero_fixtures import ACCESS, API_URL, TENANT_A

ACCOUNTS_URL = f"{API_URL}/api.xro/2.0/Accounts"
TAX_RATES_URL = f"{API_URL}/api.xro/2.0/TaxRates"
TRACKING_URL = f"{API_URL}/api.xro/2.0/TrackingCategories"
CONTACTS_URL = f"{API_URL}/api.xro/2.0/Contacts"
CONTACT_ID = "c0ffee00-1234-4abc-8def-0123456789ab"
SALES_ID = "5a1e5000-0000-4000-8000-000000000001"
BANK_ID = "ba4c0000-0000-4000-8000-000000000002"
OLD_ID = "01d00000-0000-4000-8000-000000000003"

Call = Callable[[XeroClient, str], Awaitable[object]]
"""One of the reads, made for the organisation (tenant) id given."""
CALLS: dict[str, tuple[str, Call]] = {
    "accounts": (
        ACCOUNTS_URL,
        lambda xero, tenant: xero.accounts(access_token=ACCESS, tenant_id=tenant),
    ),
    "tax_rates": (
        TAX_RATES_URL,
        lambda xero, tenant: xero.tax_rates(access_token=ACCESS, tenant_id=tenant),
    ),
    "tracking_categories": (
        TRACKING_URL,
        lambda xero, tenant: xero.tracking_categories(access_token=ACCESS, tenant_id=tenant),
    ),
    "contacts": (
        CONTACTS_URL,
        lambda xero, tenant: xero.contacts(access_token=ACCESS, tenant_id=tenant),
    ),
    "contact": (
        f"{CONTACTS_URL}/{CONTACT_ID}",
        lambda xero, tenant: xero.contact(
            access_token=ACCESS, tenant_id=tenant, contact_id=CONTACT_ID
        ),
    ),
}
GOOD_ANSWERS: dict[str, object] = {
    "accounts": {"Accounts": []},
    "tax_rates": {"TaxRates": []},
    "tracking_categories": {"TrackingCategories": []},
    "contacts": {"Contacts": []},
    "contact": {"Contacts": [{"ContactID": CONTACT_ID, "Name": "Walk-in customers"}]},
}


def account_json(**overrides: object) -> dict[str, object]:
    account: dict[str, object] = {
        "AccountID": SALES_ID,
        "Code": "200",
        "Name": "Sales",
        "Type": "REVENUE",
        "Class": "REVENUE",
        "Status": "ACTIVE",
        "TaxType": "OUTPUT2",
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": False,
        "ReportingCode": "REV.TRA.GOO",
        "UpdatedDateUTC": "/Date(1700000000000+0000)/",
    }
    account.update(overrides)
    return account


def contact_json(contact_id: str = CONTACT_ID, name: str = "Walk-in customers") -> dict[str, str]:
    return {"ContactID": contact_id, "Name": name, "ContactStatus": "ACTIVE"}


def assert_one_tenant_get(route: respx.Route) -> httpx.Request:
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.headers["xero-tenant-id"] == TENANT_A
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert request.headers["Accept"] == "application/json"
    return request
