"""Tables of the connection domain (see DESIGN.md, "The connection domain").

The rules the database can hold are held here, not only in code: one active link per store,
one grant per Xero user, unique consent token hashes, one store code per customer.
Secrets are stored only as ciphertext from `bot.common.vault.Vault`.
"""

from .base import (
    Base,
    ConnectionStatus,
    ConsentStatus,
    GrantStatus,
    StoreStatus,
    UtcDateTime,
    utcnow,
)
from .consent import ConsentRequest, OAuthState, consent_request_stores
from .customers import Customer, CustomerAlert, Store
from .operations import AuditEvent, JobLease, JobRun
from .setups import StoreSetup
from .sync import ApiKey, SyncEvent
from .xero import StoreLink, XeroConnection, XeroGrant

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "ConnectionStatus",
    "ConsentRequest",
    "ConsentStatus",
    "Customer",
    "CustomerAlert",
    "GrantStatus",
    "JobLease",
    "JobRun",
    "OAuthState",
    "Store",
    "StoreLink",
    "StoreSetup",
    "StoreStatus",
    "SyncEvent",
    "UtcDateTime",
    "XeroConnection",
    "XeroGrant",
    "consent_request_stores",
    "utcnow",
]
