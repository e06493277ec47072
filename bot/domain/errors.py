"""Domain errors.

Each carries a `message` written for the person in front of the bot (a helpdesk agent or a
customer), saying what went wrong and what to do. Front doors show `message` as it is and
never anything from a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import OpenLink, StoreView


class DomainError(Exception):
    """Base of every error the connection domain raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        """The input the error is about (e.g. "name", "api_key"), for forms that show it there."""


class NotFound(DomainError):
    """The customer, store, link or organisation named does not exist (for this customer)."""


class Ambiguous(DomainError):
    """A name matched several customers or organisations; `candidates` offers the choice."""

    def __init__(self, message: str, *, candidates: Sequence[object], query: str = "") -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)
        self.query = query
        """The words that matched several, when they were part of a longer text."""


class InvalidRequest(DomainError):
    """The input breaks a rule (wrong licence, ineligible plan, store of another customer…)."""


class Conflict(DomainError):
    """The operation clashes with the current state (e.g. a store already linked elsewhere)."""


class ConsentLinkUnusable(DomainError):
    """A consent link is unknown, expired, revoked or already completed."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class OAuthStateRejected(DomainError):
    """The `state` on Xero's answer is missing, unknown, used, expired or from another browser."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ExternalServiceError(DomainError):
    """Xero or Cloud POS failed or timed out; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class CloudPosKeyRejected(DomainError):
    """Cloud POS answered 401: the API key is unknown or not active."""


class XeroGrantRevoked(DomainError):
    """Xero answered `invalid_grant`: the customer must consent again. Never retried."""


class XeroConnectionGone(DomainError):
    """Xero refused access to an organisation (401/403): it was disconnected on Xero's side."""


class OtherBrowser(DomainError):
    """The page belongs to the browser that consented at Xero, and this is another one."""


class StoresLeftUnconnected(InvalidRequest):
    """A confirmation would leave stores of the link unconnected and did not name them."""

    def __init__(self, message: str, *, stores: tuple[StoreView, ...]) -> None:
        super().__init__(message)
        self.stores = stores


class LinksStillOpen(Conflict):
    """A new link would withdraw open links nobody confirmed withdrawing (`open_links`)."""

    def __init__(self, message: str, *, open_links: tuple[OpenLink, ...]) -> None:
        super().__init__(message)
        self.open_links = open_links


class SetupInvalid(InvalidRequest):
    """Some choices of a posting set-up do not hold at Xero: `problems` maps each field at
    fault to what is wrong with it, for the form to show on that field."""

    def __init__(self, message: str, *, problems: dict[str, str]) -> None:
        super().__init__(message)
        self.problems = problems


class MissingScopes(DomainError):
    """The customer's Xero consent does not cover what posting set-up reads: they must consent
    again (a new consent link) with the bot's current scopes."""

    def __init__(self, message: str, *, store_code: str, scopes: tuple[str, ...]) -> None:
        super().__init__(message)
        self.store_code = store_code
        self.scopes = scopes
