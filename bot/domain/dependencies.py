"""What every domain operation is given: storage, the vault, the ports, settings, a clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.common.vault import Vault
from storage.models import utcnow

from .notify import LoggingNotifier, Notifier
from .plans import PlanPolicy
from .ports import CloudPos, XeroApi
from .tiers import XeroTier


@dataclass(frozen=True, kw_only=True)
class Dependencies:
    """Built once by the composition root and passed to every operation as `deps`."""

    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    cloudpos: CloudPos
    xero: XeroApi
    public_base_url: str
    plans: PlanPolicy = field(default_factory=PlanPolicy)
    consent_link_lifetime: timedelta = timedelta(hours=72)
    notifier: Notifier = field(default_factory=LoggingNotifier)
    clock: Callable[[], datetime] = utcnow
    tier: XeroTier = XeroTier.STARTER
    """The app's Xero tier, which limits how many organisations it may connect."""
    grant_locks: dict[int, asyncio.Lock] = field(default_factory=dict, compare=False, repr=False)
    """One lock per grant within this process, so one refresh at a time is attempted here."""
    catalogues: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Each organisation's accounts, tax rates and tracking, kept a few minutes (`_catalogue`)."""
    catalogue_lifetime: timedelta = timedelta(minutes=5)
    problem_checks: dict[int, datetime] = field(default_factory=dict, compare=False, repr=False)
    """When this process last checked each grant for a reported problem, whether or not Xero
    answered: while Xero is down, reports do not each start another check."""
