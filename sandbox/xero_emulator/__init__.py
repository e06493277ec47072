"""An in-memory Xero (OAuth consent, tokens, connections, Organisation, and each
organisation's accounts, tax rates, tracking categories and contacts) served by Starlette.

Tests drive the bot's real `XeroClient` against `XeroEmulator().app` through
`httpx.ASGITransport`; the local sandbox serves the same app with uvicorn.
"""

from .books import (
    Books,
    EmulatedAccount,
    EmulatedContact,
    EmulatedTaxRate,
    EmulatedTrackingCategory,
    EmulatedTrackingOption,
)
from .emulator import XeroEmulator
from .faults import Endpoint, Fault
from .models import ConsentError, EmulatedConnection, EmulatedOrganisation, EmulatedUser
from .tokens import RefreshTokenInfo
from .traffic import EmulatorTransport, Hold

__all__ = [
    "Books",
    "ConsentError",
    "EmulatedAccount",
    "EmulatedConnection",
    "EmulatedContact",
    "EmulatedOrganisation",
    "EmulatedTaxRate",
    "EmulatedTrackingCategory",
    "EmulatedTrackingOption",
    "EmulatedUser",
    "EmulatorTransport",
    "Endpoint",
    "Fault",
    "Hold",
    "RefreshTokenInfo",
    "XeroEmulator",
]
