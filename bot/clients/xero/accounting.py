"""The accounting reads a store's posting set-up needs: the chart of accounts, tax rates,
tracking categories and contacts of one organisation.

`AccountingReads` is mixed into `XeroClient` and goes through its `_api` (tenant header,
per-organisation slot, retries, 401/403 as a lost connection, 429 waits). Lists are returned
whole, archived entries included, and the domain decides what to offer. Each answer is read
defensively: text is open, a list longer than its bound is cut there, and an entry of the
wrong shape is skipped (and counted in the log) so one odd account cannot hide the chart;
only a top-level shape that is not Xero's fails the call as unreadable.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import httpx

from bot.clients._http import parse_json
from bot.common import bounds
from bot.domain.errors import InvalidRequest
from bot.domain.ports import (
    CONTACTS_PAGE,
    XeroAccount,
    XeroContact,
    XeroTaxRate,
    XeroTrackingCategory,
    XeroTrackingOption,
)

from ._failures import unreadable

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_ACCOUNTS_PATH = "/api.xro/2.0/Accounts"
_TAX_RATES_PATH = "/api.xro/2.0/TaxRates"
_TRACKING_PATH = "/api.xro/2.0/TrackingCategories"
_CONTACTS_PATH = "/api.xro/2.0/Contacts"
_GUID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")

MAX_ACCOUNTS = 5000
MAX_TAX_RATES = 1000
MAX_TRACKING_CATEGORIES = 100
MAX_TRACKING_OPTIONS = 1000
SEARCH_LENGTH = 100
"""The longest contact search sent to Xero; a longer one is cut."""
_MAX_RATE = 1_000_000


class AccountingReads:
    """The posting set-up's reads, for a class that provides Xero's `_api`."""

    if TYPE_CHECKING:

        async def _api(
            self,
            method: str,
            path: str,
            *,
            purpose: str,
            access_token: str,
            tenant_id: str | None = None,
            params: Mapping[str, str] | None = None,
            accept: frozenset[int] = frozenset(),
        ) -> httpx.Response: ...

    async def accounts(self, *, access_token: str, tenant_id: str) -> list[XeroAccount]:
        """The whole chart of accounts, archived accounts included, in Xero's order."""
        purpose = "reading the Xero organisation's chart of accounts"
        data = await self._read(_ACCOUNTS_PATH, purpose, access_token, tenant_id)
        return _parsed(_entries(data, "Accounts", purpose, MAX_ACCOUNTS), _account, purpose)

    async def tax_rates(self, *, access_token: str, tenant_id: str) -> list[XeroTaxRate]:
        """Every tax rate, deleted and archived ones included, with its rate as "20.0000"."""
        purpose = "reading the Xero organisation's tax rates"
        data = await self._read(_TAX_RATES_PATH, purpose, access_token, tenant_id)
        return _parsed(_entries(data, "TaxRates", purpose, MAX_TAX_RATES), _tax_rate, purpose)

    async def tracking_categories(
        self, *, access_token: str, tenant_id: str
    ) -> list[XeroTrackingCategory]:
        """Every tracking category with its options, archived ones included."""
        purpose = "reading the Xero organisation's tracking categories"
        data = await self._read(
            _TRACKING_PATH, purpose, access_token, tenant_id, {"includeArchived": "true"}
        )
        entries = _entries(data, "TrackingCategories", purpose, MAX_TRACKING_CATEGORIES)
        return _parsed(entries, partial(_tracking_category, purpose=purpose), purpose)

    async def contacts(
        self, *, access_token: str, tenant_id: str, search: str = "", page: int = 1
    ) -> list[XeroContact]:
        """One page (from 1) of the organisation's contacts, those matching `search` if given.

        At most `CONTACTS_PAGE` come back; a full page means there may be more.
        """
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InvalidRequest("A page of Xero contacts is numbered from 1.")
        params = {"page": str(page), "pageSize": str(CONTACTS_PAGE), "summaryOnly": "true"}
        term = search.strip()[:SEARCH_LENGTH].strip()
        if term:
            params["searchTerm"] = term
        purpose = "searching the Xero organisation's contacts"
        data = await self._read(_CONTACTS_PATH, purpose, access_token, tenant_id, params)
        return _parsed(_entries(data, "Contacts", purpose, CONTACTS_PAGE), _contact, purpose)

    async def contact(
        self, *, access_token: str, tenant_id: str, contact_id: str
    ) -> XeroContact | None:
        """One contact by its id, archived or not; None if the organisation has no such contact."""
        if not isinstance(contact_id, str) or not _GUID.fullmatch(contact_id):
            raise InvalidRequest("This is not a Xero contact id.")
        purpose = "reading a Xero contact"
        response = await self._api(
            "GET",
            f"{_CONTACTS_PATH}/{contact_id}",
            purpose=purpose,
            access_token=access_token,
            tenant_id=tenant_id,
            accept=frozenset({httpx.codes.NOT_FOUND}),
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        data = parse_json(response, partial(unreadable, purpose))
        entries = _entries(data, "Contacts", purpose, 1)
        if not entries:
            return None
        try:
            found = _contact(entries[0])
        except _Malformed as exc:
            raise unreadable(purpose, f"the contact {exc}") from None
        if found.contact_id.lower() != contact_id.lower():
            raise unreadable(purpose, "Xero answered with another contact")
        return found

    async def _read(
        self,
        path: str,
        purpose: str,
        access_token: str,
        tenant_id: str,
        params: Mapping[str, str] | None = None,
    ) -> object:
        response = await self._api(
            "GET",
            path,
            purpose=purpose,
            access_token=access_token,
            tenant_id=tenant_id,
            params=params,
        )
        return parse_json(response, partial(unreadable, purpose))


# --- parsing --------------------------------------------------------------------------------


class _Malformed(Exception):
    """An entry of the wrong shape; its message says why, never with a value from it."""


def _entries(data: object, key: str, purpose: str, limit: int) -> list[object]:
    entries = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise unreadable(purpose, f"no '{key}' list")
    return _bounded(entries, limit, purpose)


def _bounded(entries: list[object], limit: int, purpose: str) -> list[object]:
    if len(entries) > limit:
        logger.warning("Xero sent %d entries while %s; read %d", len(entries), purpose, limit)
    return entries[:limit]


def _parsed(entries: list[object], parse: Callable[[object], _T], purpose: str) -> list[_T]:
    parsed, problems = [], set()
    for entry in entries:
        try:
            parsed.append(parse(entry))
        except _Malformed as exc:
            problems.add(str(exc))
    if problems:
        logger.warning(
            "Xero sent %d malformed entries while %s, skipped (%s)",
            len(entries) - len(parsed),
            purpose,
            "; ".join(sorted(problems)),
        )
    return parsed


def _object(entry: object) -> Mapping[str, object]:
    if not isinstance(entry, dict):
        raise _Malformed("is not an object")
    return entry


def _identifier(entry: Mapping[str, object], key: str) -> str:
    """A required id, refused when too long: a shortened id would name something else."""
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Malformed(f"has no text '{key}'")
    if bounds.too_long(value.strip(), bounds.IDENTIFIER):
        raise _Malformed(f"has a '{key}' too long for an identifier")
    return value.strip()


def _text(entry: Mapping[str, object], key: str, limit: int, *, required: bool = False) -> str:
    """Open text, shortened to `limit`; missing or null is empty unless `required`."""
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _Malformed(f"has no text '{key}'")
    text = bounds.clipped(value, limit)
    if required and not text:
        raise _Malformed(f"has an empty '{key}'")
    return text


def _flag(entry: Mapping[str, object], key: str) -> bool:
    value = entry.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _Malformed(f"has a '{key}' that is not true/false")
    return value


def _account(raw: object) -> XeroAccount:
    entry = _object(raw)
    code = entry.get("Code")
    if code is not None and not isinstance(code, str):
        raise _Malformed("has a 'Code' that is not text")
    code = (code or "").strip()
    if bounds.too_long(code, bounds.LABEL):
        raise _Malformed("has a 'Code' too long for an account code")
    return XeroAccount(
        account_id=_identifier(entry, "AccountID"),
        code=code,
        name=_text(entry, "Name", bounds.NAME, required=True),
        type=_text(entry, "Type", bounds.LABEL),
        account_class=_text(entry, "Class", bounds.LABEL),
        status=_text(entry, "Status", bounds.LABEL),
        enable_payments=_flag(entry, "EnablePaymentsToAccount"),
    )


def _tax_rate(raw: object) -> XeroTaxRate:
    entry = _object(raw)
    return XeroTaxRate(
        tax_type=_identifier(entry, "TaxType"),
        name=_text(entry, "Name", bounds.NAME, required=True),
        status=_text(entry, "Status", bounds.LABEL),
        effective_rate=_rate(entry.get("EffectiveRate")),
    )


def _rate(value: object) -> str:
    """Xero's percentage (a JSON number) written with four decimals, as Xero shows it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed("has no number 'EffectiveRate'")
    if abs(value) >= _MAX_RATE or not math.isfinite(value):
        raise _Malformed("has an 'EffectiveRate' that is not a percentage")
    return f"{Decimal(str(value)):.4f}"


def _tracking_category(raw: object, *, purpose: str) -> XeroTrackingCategory:
    entry = _object(raw)
    options = entry.get("Options")
    if options is None:
        options = []
    if not isinstance(options, list):
        raise _Malformed("has 'Options' that are not a list")
    purpose = f"{purpose} (a category's options)"
    options = _bounded(options, MAX_TRACKING_OPTIONS, purpose)
    return XeroTrackingCategory(
        category_id=_identifier(entry, "TrackingCategoryID"),
        name=_text(entry, "Name", bounds.NAME, required=True),
        status=_text(entry, "Status", bounds.LABEL),
        options=tuple(_parsed(options, _tracking_option, purpose)),
    )


def _tracking_option(raw: object) -> XeroTrackingOption:
    entry = _object(raw)
    return XeroTrackingOption(
        option_id=_identifier(entry, "TrackingOptionID"),
        name=_text(entry, "Name", bounds.NAME, required=True),
        status=_text(entry, "Status", bounds.LABEL),
    )


def _contact(raw: object) -> XeroContact:
    entry = _object(raw)
    return XeroContact(
        contact_id=_identifier(entry, "ContactID"),
        name=_text(entry, "Name", bounds.ORGANISATION_NAME, required=True),
        status=_text(entry, "ContactStatus", bounds.LABEL),
    )
