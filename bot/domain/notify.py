"""Reporting consent progress back to where the link was issued.

The domain tells a `Notifier` when a customer has consented at Xero, finished choosing
organisations, cancelled, or hit a failure, with the link's `report_to`. A front door
implements it to report where it issued the link; `LoggingNotifier` just logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.domain.results import ConsentView

log = logging.getLogger(__name__)


class ConsentEventKind(StrEnum):
    AUTHORISED = "authorised"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class ConsentEvent:
    kind: ConsentEventKind
    consent: ConsentView
    detail: str = ""


class Notifier(Protocol):
    async def consent_changed(self, event: ConsentEvent) -> str | None:
        """Report `event`; return the id of a message that asks for the organisation choice,
        when one was posted, so that the domain keeps it for the outcome to replace."""
        ...


class LoggingNotifier:
    async def consent_changed(self, event: ConsentEvent) -> str | None:
        consent = event.consent
        log.info(
            "consent link #%s for %s (customer #%s) %s%s",
            consent.consent_request_id,
            consent.customer_name,
            consent.customer_id,
            event.kind.value,
            f": {event.detail}" if event.detail else "",
        )
        return None
