"""Telling the helpdesk: consent progress, broken stores, links left waiting.

The domain tells a `Notifier` when a customer has consented at Xero, finished choosing
organisations, cancelled, or hit a failure, with the link's `report_to`; when a customer's
stores break, change or recover (`StoresAlert`); and when a link has waited too long
(`Reminder`). A front door implements it to report where the helpdesk looks;
`LoggingNotifier` just logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from bot.domain.results import ConsentView, CustomerAttention, OpenLink

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


@dataclass(frozen=True, kw_only=True)
class Fix:
    """What made a customer's stores healthy again, from the audit log."""

    actor: str
    """Who did it, as the audit log names them ("customer", "system", a front door's id)."""
    action: str
    """The audited action: consent.completed, organisation.disconnected, connection.back…"""
    at: datetime
    consent_request_id: int | None = None
    link_issued_by: str | None = None
    """Who issued the link the customer reconsented through."""


@dataclass(frozen=True, kw_only=True)
class StoresAlert:
    """A customer's stores that need attention, to report or to update where reported
    (`report`); with no stores, the alert is resolved (`fixed_by`, when known)."""

    customer_id: int
    customer_name: str
    attention: CustomerAttention | None
    """The stores (at most a page of them, with their total); None once resolved."""
    opened_at: datetime
    report: str | None = None
    """Where it was reported before, to update in place; None: report it anew."""
    fixed_by: Fix | None = None

    @property
    def resolved(self) -> bool:
        return self.attention is None


class ReminderKind(StrEnum):
    WAITING = "waiting"
    """Not completed `CONSENT_REMINDER_HOURS` after it was issued."""
    EXPIRING = "expiring"
    """Not completed, and it runs out within hours."""


@dataclass(frozen=True, kw_only=True)
class Reminder:
    kind: ReminderKind
    link: OpenLink
    now: datetime


class Notifier(Protocol):
    async def consent_changed(self, event: ConsentEvent) -> str | None:
        """Report `event`; return the id of a message that asks for the organisation choice,
        when one was posted, so that the domain keeps it for the outcome to replace."""
        ...

    async def stores_alert(self, alert: StoresAlert) -> str | None:
        """Report `alert`, updating it in place where `alert.report` says; return where it
        is reported now (None when nowhere, as when only logging)."""
        ...

    async def link_reminder(self, reminder: Reminder) -> None:
        """Remind whoever issued the link that its customer has not finished."""
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

    async def stores_alert(self, alert: StoresAlert) -> str | None:
        if alert.attention is None:
            log.info("customer #%s: every store is healthy again", alert.customer_id)
            return None
        for store in alert.attention.stores:
            log.warning(
                "customer #%s store %s needs attention: %s",
                alert.customer_id,
                store.code,
                store.reason,
            )
        return None

    async def link_reminder(self, reminder: Reminder) -> None:
        link = reminder.link
        log.info(
            "consent link #%s for %s issued by %s is still %s",
            link.consent_request_id,
            link.customer_name,
            link.issued_by,
            "waiting" if reminder.kind == ReminderKind.WAITING else "unused and expiring soon",
        )
