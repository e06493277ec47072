"""Xero: OAuth consent, token renewal and revocation, connections and organisation plans."""

from ._oauth import AsyncOAuth2Client, new_code_verifier
from .client import XeroClient
from .models import Organisation, TokenSet, XeroTenantConnection

__all__ = [
    "AsyncOAuth2Client",
    "Organisation",
    "TokenSet",
    "XeroClient",
    "XeroTenantConnection",
    "new_code_verifier",
]
