"""Xero: OAuth consent, token renewal and revocation, connections, organisation plans, and
the accounting reads of posting set-up (accounts, tax rates, tracking, contacts)."""

from .client import XeroClient

__all__ = ["XeroClient"]
