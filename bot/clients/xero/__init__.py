"""Xero: OAuth consent, token renewal and revocation, connections and organisation plans."""

from .client import XeroClient

__all__ = ["XeroClient"]
