"""The connection check: whether Xero still lets us reach the organisations we hold."""

from __future__ import annotations

from .dependencies import Dependencies
from .results import ConnectionCheck


async def check_connections(deps: Dependencies, *, page_size: int = 200) -> ConnectionCheck:
    """Check every active grant at Xero once; see the module's docstring."""
    raise NotImplementedError
