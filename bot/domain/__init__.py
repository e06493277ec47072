"""The connection domain: every rule about connecting Cloud POS stores to Xero lives here.

Front doors call the feature modules' functions with the `Dependencies` and keyword
arguments (`links.issue(deps, customer_id=…, store_codes=…, actor=…)`), and get plain
results or a `DomainError` whose message is for people.
"""

from . import (
    api_keys,
    attention,
    audit,
    choice,
    consent,
    customers,
    grants,
    health,
    links,
    organisations,
    pages,
    posting,
    sync,
    sync_events,
    sync_problems,
)
from .dependencies import Dependencies

__all__ = [
    "Dependencies",
    "api_keys",
    "attention",
    "audit",
    "choice",
    "consent",
    "customers",
    "grants",
    "health",
    "links",
    "organisations",
    "pages",
    "posting",
    "sync",
    "sync_events",
    "sync_problems",
]
