"""The organisations' books inside the emulator's state, and the switches that change them.

Books are made the first time an organisation's are asked for (2,000 contacts for every
organisation a test creates would be wasted work) and kept, so changes stick. What a switch
changes is also noted in `book_changes`: the snapshot keeps those notes rather than the whole
books, and replaying them on freshly seeded books gives the same books back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from .books import ARCHIVED, TAX_RATE_STATUSES, Books, seed_books
from .models import EmulatedOrganisation

_T = TypeVar("_T")

BookChanges = dict[str, dict[str, dict[str, list[str]]]]
"""tenant id → "accounts" | "tax_rates" | "contacts" → code, tax type or contact id →
[status, when (ISO 8601)]."""


class Ledger:
    """Mixed into the state, which provides the lock, the organisations and the clock."""

    _lock: threading.RLock
    _organisations: dict[str, EmulatedOrganisation]
    clock: Callable[[], datetime]

    def __init__(self) -> None:
        self._books: dict[str, Books] = {}
        self.book_changes: BookChanges = {}

    def books(self, tenant_id: str) -> Books:
        """The organisation's books, live: what a test changes in them, the API then serves
        (hold no reference across threads; the sandbox changes them through the switches)."""
        with self._lock:
            return self._books_of(tenant_id)

    def with_books(self, tenant_id: str, read: Callable[[Books], _T]) -> _T:
        """`read` applied to the organisation's books under the state's lock, for the API."""
        with self._lock:
            return read(self._books_of(tenant_id))

    def archive_account(self, tenant_id: str, code: str) -> None:
        """The account with `code` is archived, as "Archive" in Xero's chart of accounts."""
        self._change(tenant_id, "accounts", code, ARCHIVED)

    def set_tax_rate_status(self, tenant_id: str, tax_type: str, status: str) -> None:
        """The tax rate of `tax_type` becomes ACTIVE, ARCHIVED, DELETED or PENDING."""
        if status not in TAX_RATE_STATUSES:
            raise ValueError(f"status must be one of {list(TAX_RATE_STATUSES)}")
        self._change(tenant_id, "tax_rates", tax_type, status)

    def archive_contact(self, tenant_id: str, contact_id: str) -> None:
        """The contact is archived, as "Archive" on Xero's contact page."""
        self._change(tenant_id, "contacts", contact_id, ARCHIVED)

    def _change(self, tenant_id: str, kind: str, key: str, status: str) -> None:
        with self._lock:
            books = self._books_of(tenant_id)
            when = self.clock()
            if not _apply(books, kind, key, status, when):
                raise ValueError(_MISSING[kind].format(key=key))
            notes = self.book_changes.setdefault(tenant_id, {}).setdefault(kind, {})
            notes[key] = [status, when.isoformat()]

    def _books_of(self, tenant_id: str) -> Books:
        books = self._books.get(tenant_id)
        if books is not None:
            return books
        if tenant_id not in self._organisations:
            raise ValueError("there is no such organisation")
        books = self._books[tenant_id] = seed_books(tenant_id)
        for kind, changes in self.book_changes.get(tenant_id, {}).items():
            for key, (status, when) in changes.items():  # one gone since is skipped
                _apply(books, kind, key, status, datetime.fromisoformat(when))
        return books

    def restore_books(self, changes: BookChanges) -> None:
        """Forget every organisation's books; they are made again, with `changes` replayed."""
        with self._lock:
            self._books = {}
            self.book_changes = changes


_MISSING = {
    "accounts": "the organisation has no account with code {key!r}",
    "tax_rates": "the organisation has no tax rate {key!r}",
    "contacts": "the organisation has no contact with that id",
}


def _apply(books: Books, kind: str, key: str, status: str, when: datetime) -> bool:
    """Whether the record was there to change."""
    if kind == "tax_rates":
        rate = books.tax_rate(key)
        if rate is not None:
            rate.status = status
        return rate is not None
    record = books.account(key) if kind == "accounts" else books.contact(key)
    if record is not None:
        record.status, record.updated = status, when
    return record is not None
