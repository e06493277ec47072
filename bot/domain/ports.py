"""What the domain needs from the world outside, in its own words.

The Xero and Cloud POS clients implement `XeroApi` and `CloudPos` over HTTP, the sandbox and
tests over emulators; the front doors implement `Notifier`. The domain sees only these types.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

_LICENCE_SEPARATORS = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class TokenSet:
    """What Xero answers to a code exchange or refresh, with the user it speaks for."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]
    xero_user_id: str
    auth_event_id: str | None
    user_name: str
    user_email: str


@dataclass(frozen=True)
class XeroTenantConnection:
    """One organisation a Xero user has connected to the app."""

    id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str
    auth_event_id: str


@dataclass(frozen=True)
class Organisation:
    """The parts of a Xero organisation that decide whether it may be connected."""

    name: str
    plan_class: str
    edition: str
    is_demo_company: bool
    status: str


@dataclass(frozen=True)
class Licence:
    group: str
    licence: str

    @property
    def is_pro_plus(self) -> bool:
        """Cloud POS has spelt the tier several ways ("ProPlus", "Pro Plus"), so compare loosely."""
        return _LICENCE_SEPARATORS.sub("", self.licence).casefold() == "proplus"


@dataclass(frozen=True)
class CloudPosStore:
    code: str
    name: str
    active: bool


@dataclass(frozen=True)
class Tender:
    """A Cloud POS payment type of one store (Cash, Card, Gift card…)."""

    id: str
    name: str
    type: str


@dataclass(frozen=True)
class XeroAccount:
    """An account in an organisation's chart of accounts, as posting set-up needs it."""

    account_id: str
    code: str
    """Empty for accounts Xero keeps without a code (bank accounts may have none)."""
    name: str
    type: str
    """Xero's account type: REVENUE, SALES, BANK, CURRLIAB, LIABILITY, EXPENSE…"""
    account_class: str
    """REVENUE, ASSET, LIABILITY, EXPENSE or EQUITY."""
    status: str
    """ACTIVE or ARCHIVED."""
    enable_payments: bool
    """Payments may be made to it (a clearing account), as to a bank account."""


@dataclass(frozen=True)
class XeroTaxRate:
    tax_type: str
    """The rate's key (e.g. OUTPUT2, TAX001), what postings name."""
    name: str
    status: str
    """ACTIVE, DELETED or ARCHIVED."""
    effective_rate: str
    """As Xero gives it, e.g. "20.0000"."""


@dataclass(frozen=True)
class XeroTrackingOption:
    option_id: str
    name: str
    status: str


@dataclass(frozen=True)
class XeroTrackingCategory:
    category_id: str
    name: str
    status: str
    options: tuple[XeroTrackingOption, ...]


@dataclass(frozen=True)
class XeroContact:
    contact_id: str
    name: str
    status: str
    """ACTIVE, ARCHIVED or GDPRREQUEST."""


CONTACTS_PAGE = 100
"""Xero's page of contacts: a full page means there may be more."""


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636): 64 characters of the unreserved set, 384 bits."""
    return secrets.token_urlsafe(48)


class XeroApi(Protocol):
    """Xero's OAuth, the few API calls connecting an organisation needs, and the accounting
    reads a store's posting set-up needs."""

    def authorization_url(self, *, state: str, code_verifier: str | None = None) -> str: ...

    async def exchange_code(self, *, code: str, code_verifier: str | None = None) -> TokenSet: ...

    async def refresh(self, *, refresh_token: str) -> TokenSet: ...

    async def revoke(self, *, refresh_token: str) -> None: ...

    async def connections(
        self, *, access_token: str, auth_event_id: str | None = None
    ) -> list[XeroTenantConnection]: ...

    async def delete_connection(self, *, access_token: str, connection_id: str) -> bool: ...

    async def organisation(self, *, access_token: str, tenant_id: str) -> Organisation: ...

    async def accounts(self, *, access_token: str, tenant_id: str) -> list[XeroAccount]:
        """The organisation's whole chart of accounts, archived accounts included."""
        ...

    async def tax_rates(self, *, access_token: str, tenant_id: str) -> list[XeroTaxRate]:
        """Every tax rate, deleted and archived ones included."""
        ...

    async def tracking_categories(
        self, *, access_token: str, tenant_id: str
    ) -> list[XeroTrackingCategory]:
        """Every tracking category with its options, archived ones included."""
        ...

    async def contacts(
        self, *, access_token: str, tenant_id: str, search: str = "", page: int = 1
    ) -> list[XeroContact]:
        """Page `page` (from 1) of the contacts matching `search` (all if empty), at most
        `CONTACTS_PAGE` of them."""
        ...

    async def contact(
        self, *, access_token: str, tenant_id: str, contact_id: str
    ) -> XeroContact | None:
        """One contact by its id (a GUID); None if the organisation has none with that id."""
        ...


class CloudPos(Protocol):
    """Cloud POS, reached with the customer's own API key."""

    async def licence(self, api_key: str) -> Licence: ...

    async def stores(self, api_key: str) -> list[CloudPosStore]: ...

    async def tenders(self, api_key: str, store_code: str) -> list[Tender]:
        """The store's payment types."""
        ...


class WebhookReceiver(Protocol):
    """Where store events are pushed (the sync service's webhook): `deliver` returns None
    once the receiver accepted the body, or what went wrong, in a short line."""

    async def deliver(self, *, event_id: int, body: bytes) -> str | None: ...
