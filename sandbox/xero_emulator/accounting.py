"""Xero's Accounting API reads the posting set-up makes: Accounts, TaxRates,
TrackingCategories and Contacts, in Xero's JSON, behind the same checks as Organisation.

A call passes, in order: an injected fault; the bearer token (401 when unknown or expired);
the token's scope (401 "AuthorizationUnsuccessful", as Xero answers an app that did not ask
for the scope: accounting.settings(.read) for the chart, tax rates and tracking,
accounting.contacts(.read) for contacts); the `xero-tenant-id` (403 for an organisation the
token's user has not connected). Only the query parameters the bot's client sends, plus
`includeArchived` on contacts, are understood; `where`, `order` and `IDs` are ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .answers import Sleep, injected_fault, problem, unauthorized
from .books import (
    ACTIVE,
    ARCHIVED,
    Books,
    EmulatedAccount,
    EmulatedContact,
    EmulatedTaxRate,
    EmulatedTrackingCategory,
)
from .faults import Endpoint
from .state import EmulatorState

Json = dict[str, Any]
SETTINGS_SCOPES = frozenset({"accounting.settings", "accounting.settings.read"})
CONTACTS_SCOPES = frozenset({"accounting.contacts", "accounting.contacts.read"})
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
NOT_FOUND = "The resource you're looking for cannot be found"
"""Xero's 404 from the Accounting API is this line of plain text, not a problem body."""


def xero_date(moment: datetime) -> str:
    """The Accounting API's dates, Microsoft's JSON form: /Date(1680307200000+0000)/."""
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def account_json(account: EmulatedAccount) -> Json:
    body: Json = {"AccountID": account.account_id}
    if account.code:  # Xero leaves Code out of an account that has none
        body["Code"] = account.code
    body |= {
        "Name": account.name,
        "Status": account.status,
        "Type": account.type,
        "TaxType": account.tax_type,
        "Class": account.account_class,
        "EnablePaymentsToAccount": account.enable_payments,
        "ShowInExpenseClaims": False,
        "BankAccountType": account.bank_account_type,
        "ReportingCode": account.account_class[:3],
        "HasAttachments": False,
        "UpdatedDateUTC": xero_date(account.updated),
        "AddToWatchlist": False,
    }
    if account.system_account:
        body["SystemAccount"] = account.system_account
    if account.type == "BANK":
        body |= {"BankAccountNumber": account.bank_account_number, "CurrencyCode": "GBP"}
    return body


def tax_rate_json(rate: EmulatedTaxRate) -> Json:
    output = rate.report_tax_type.endswith("OUTPUT")
    return {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "ReportTaxType": rate.report_tax_type,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": not output,
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": output or rate.report_tax_type == "NONE",
        "DisplayTaxRate": rate.rate,
        "EffectiveRate": rate.rate,
        "Status": rate.status,
        "TaxComponents": [
            {"Name": "VAT", "Rate": rate.rate, "IsCompound": False, "IsNonRecoverable": False}
        ],
    }


def tracking_json(category: EmulatedTrackingCategory, *, include_archived: bool) -> Json:
    """Without `includeArchived` Xero leaves archived options out as well as categories."""
    shown = {ACTIVE, ARCHIVED} if include_archived else {ACTIVE}
    return {
        "Name": category.name,
        "Status": category.status,
        "TrackingCategoryID": category.category_id,
        "Options": [
            {
                "TrackingOptionID": option.option_id,
                "Name": option.name,
                "Status": option.status,
                "HasValidationErrors": False,
                "IsDeleted": option.status == "DELETED",
                "IsArchived": option.status == ARCHIVED,
                "IsActive": option.status == ACTIVE,
            }
            for option in category.options
            if option.status in shown
        ],
    }


def contact_json(contact: EmulatedContact, *, summary: bool) -> Json:
    """`summary` is `summaryOnly=true`: Xero's lighter contact, without addresses and phones."""
    body: Json = {"ContactID": contact.contact_id, "ContactStatus": contact.status}
    body["Name"] = contact.name
    for key, value in (
        ("FirstName", contact.first_name),
        ("LastName", contact.last_name),
        ("EmailAddress", contact.email),
    ):
        if value:
            body[key] = value
    body |= {
        "BankAccountDetails": "",
        "IsSupplier": contact.is_supplier,
        "IsCustomer": contact.is_customer,
        "UpdatedDateUTC": xero_date(contact.updated),
        "ContactGroups": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    if not summary:
        body |= {
            "Addresses": [{"AddressType": "POBOX"}, {"AddressType": "STREET"}],
            "Phones": [{"PhoneType": kind} for kind in ("DDI", "DEFAULT", "FAX", "MOBILE")],
            "ContactPersons": [],
            "DefaultCurrency": "GBP",
        }
    return body


def matches(contact: EmulatedContact, term: str) -> bool:
    """Xero's `searchTerm`: case-insensitive, anywhere in the name, first and last name or
    email address."""
    wanted = term.casefold()
    fields = (contact.name, contact.first_name, contact.last_name, contact.email)
    return any(wanted in value.casefold() for value in fields)


def _whole(value: str | None, default: int) -> int:
    """Xero reads a page number or size that is not a positive number as the default."""
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if number >= 1 else default


def _true(value: str | None) -> bool:
    return (value or "").lower() == "true"


class AccountingApi:
    def __init__(self, state: EmulatorState, sleep: Sleep) -> None:
        self._state = state
        self._sleep = sleep

    async def accounts(self, request: Request) -> Response:
        def answer(books: Books) -> Json:
            return {"Accounts": [account_json(a) for a in books.accounts]}

        return await self._read(request, "accounts", SETTINGS_SCOPES, answer)

    async def tax_rates(self, request: Request) -> Response:
        def answer(books: Books) -> Json:
            return {"TaxRates": [tax_rate_json(r) for r in books.tax_rates]}

        return await self._read(request, "tax_rates", SETTINGS_SCOPES, answer)

    async def tracking_categories(self, request: Request) -> Response:
        archived = _true(request.query_params.get("includeArchived"))

        def answer(books: Books) -> Json:
            shown = [c for c in books.tracking if archived or c.status == ACTIVE]
            return {
                "TrackingCategories": [tracking_json(c, include_archived=archived) for c in shown]
            }

        return await self._read(request, "tracking", SETTINGS_SCOPES, answer)

    async def contacts(self, request: Request) -> Response:
        """Archived contacts only with `includeArchived=true`, as at Xero; ordered by name.
        With `page` (from 1), `pageSize` of them (100 unless asked, at most 1,000) and Xero's
        `pagination` block; without it, every contact."""
        query = request.query_params
        archived, summary = _true(query.get("includeArchived")), _true(query.get("summaryOnly"))
        term = query.get("searchTerm", "").strip()
        page = _whole(query.get("page"), 1) if "page" in query else None
        size = min(_whole(query.get("pageSize"), PAGE_SIZE), MAX_PAGE_SIZE)

        def answer(books: Books) -> Json:
            found = [
                c
                for c in books.contacts
                if (c.status == ACTIVE or (archived and c.status == ARCHIVED))
                and (not term or matches(c, term))
            ]
            found.sort(key=lambda c: (c.name.casefold(), c.contact_id))
            body: Json = {}
            if page is not None:
                body["pagination"] = {
                    "page": page,
                    "pageSize": size,
                    "pageCount": -(-len(found) // size),
                    "itemCount": len(found),
                }
                found = found[(page - 1) * size : page * size]
            body["Contacts"] = [contact_json(c, summary=summary) for c in found]
            return body

        return await self._read(request, "contacts", CONTACTS_SCOPES, answer)

    async def contact(self, request: Request) -> Response:
        """One contact by id, archived or not; an unknown id is Xero's plain-text 404."""
        contact_id = request.path_params["contact_id"]

        def answer(books: Books) -> Json | None:
            found = books.contact(contact_id)
            return None if found is None else {"Contacts": [contact_json(found, summary=False)]}

        return await self._read(request, "contact", CONTACTS_SCOPES, answer)

    async def _read(
        self,
        request: Request,
        endpoint: Endpoint,
        scopes: frozenset[str],
        answer: Callable[[Books], Json | None],
    ) -> Response:
        if (fault := await injected_fault(self._state, endpoint, self._sleep)) is not None:
            return fault
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        record = self._state.access_record(token.strip()) if scheme.lower() == "bearer" else None
        if record is None:
            return unauthorized()
        if not scopes & set(record.scope):
            return JSONResponse(problem(401, "AuthorizationUnsuccessful"), 401)
        tenant_id = request.headers.get("xero-tenant-id", "")
        if self._state.organisation_for(record.user_id, tenant_id) is None:
            return JSONResponse(problem(403, "AuthenticationUnsuccessful"), 403)
        body = self._state.with_books(tenant_id, answer)
        if body is None:
            return PlainTextResponse(NOT_FOUND, 404)
        envelope: Json = {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": self._state.app_name,
            "DateTimeUTC": xero_date(self._state.clock()),
        }
        return JSONResponse(envelope | body)
