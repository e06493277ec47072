"""An in-memory Xero (OAuth consent, tokens, connections, Organisation) served by Starlette.

Tests drive the bot's real `XeroClient` against `XeroEmulator().app` through
`httpx.ASGITransport`; the local sandbox serves the same app with uvicorn.
"""

from .emulator import XeroEmulator
from .faults import Endpoint, Fault
from .models import ConsentError, EmulatedConnection, EmulatedOrganisation, EmulatedUser
from .tokens import RefreshTokenInfo
from .traffic import EmulatorTransport, Hold

__all__ = [
    "ConsentError",
    "EmulatedConnection",
    "EmulatedOrganisation",
    "EmulatedUser",
    "EmulatorTransport",
    "Endpoint",
    "Fault",
    "Hold",
    "RefreshTokenInfo",
    "XeroEmulator",
]
