"""Reminders: whoever issued a link hears when its customer has not finished with it.

A link still open `after` its issue gets one reminder, and one more when it runs out within
`EXPIRY_NOTICE`. Each is claimed in one UPDATE before it is sent (so two runs send it once)
and given back if the notifier fails, so the next run tries again; no lock is held while the
notifier works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from storage.models import ConsentRequest

from ._queries import OPEN_CONSENT_STATUSES
from ._requests import open_link
from ._session import transaction
from .dependencies import Dependencies
from .notify import Reminder, ReminderKind
from .results import OpenLink

log = logging.getLogger(__name__)

EXPIRY_NOTICE = timedelta(hours=6)
"""How long before a link runs out its issuer hears so, if the customer has not finished."""
PAGE = 100


@dataclass
class ReminderReport:
    waiting: int = 0
    expiring: int = 0
    failed: int = 0


async def send_due(deps: Dependencies, *, after: timedelta) -> ReminderReport:
    """Remind the issuers of open links `after` their issue, and again before they expire."""
    done = ReminderReport()
    now = deps.clock()
    open_ = (ConsentRequest.status.in_(OPEN_CONSENT_STATUSES), ConsentRequest.expires_at > now)
    # Expiring first: a link that is both due and expiring hears once, that it expires.
    await _remind(
        deps,
        ReminderKind.EXPIRING,
        ConsentRequest.expiry_reminded_at,
        [*open_, ConsentRequest.expires_at <= now + EXPIRY_NOTICE],
        done,
    )
    await _remind(
        deps,
        ReminderKind.WAITING,
        ConsentRequest.reminded_at,
        [*open_, ConsentRequest.created_at <= now - after],
        done,
    )
    return done


async def _remind(
    deps: Dependencies,
    kind: ReminderKind,
    sent: InstrumentedAttribute[Any],
    due: list[Any],
    done: ReminderReport,
) -> None:
    after = 0
    while True:
        async with transaction(deps, read_only=True) as session:
            page = list(
                await session.scalars(
                    select(ConsentRequest)
                    .where(*due, sent.is_(None), ConsentRequest.id > after)
                    .order_by(ConsentRequest.id)
                    .limit(PAGE)
                    .options(
                        selectinload(ConsentRequest.stores),
                        selectinload(ConsentRequest.customer),
                    )
                )
            )
            links = [open_link(request, customer_name=request.customer.name) for request in page]
        if kind == ReminderKind.EXPIRING:
            links = [link for link in links if _lived_before_notice(link)]
        for link in links:
            if await _claim(deps, link.consent_request_id, sent, kind):
                await _send(deps, Reminder(kind=kind, link=link, now=deps.clock()), sent, done)
        if len(page) < PAGE:
            return
        after = page[-1].id


def _lived_before_notice(link: OpenLink) -> bool:
    """A link made to last less than the notice is not "expiring soon" news to its issuer."""
    return link.issued_at is None or link.expires_at - link.issued_at > EXPIRY_NOTICE


async def _claim(
    deps: Dependencies, request_id: int, sent: InstrumentedAttribute[Any], kind: ReminderKind
) -> bool:
    """Mark the reminder sent, if no one has: True when this call did."""
    values: dict[Any, Any] = {sent: deps.clock()}
    if kind == ReminderKind.EXPIRING:
        values[ConsentRequest.reminded_at] = deps.clock()  # no "still waiting" after this
    async with transaction(deps) as session:
        result = await session.execute(
            update(ConsentRequest)
            .where(ConsentRequest.id == request_id, sent.is_(None))
            .values(values)
            .execution_options(synchronize_session=False)
        )
        return cast("CursorResult[Any]", result).rowcount == 1


async def _send(
    deps: Dependencies, reminder: Reminder, sent: InstrumentedAttribute[Any], done: ReminderReport
) -> None:
    link = reminder.link
    try:
        await deps.notifier.link_reminder(reminder)
    except Exception:
        log.exception("could not remind the issuer of link #%s", link.consent_request_id)
        done.failed += 1
        async with transaction(deps) as session:
            await session.execute(
                update(ConsentRequest)
                .where(ConsentRequest.id == link.consent_request_id)
                .values({sent: None})
                .execution_options(synchronize_session=False)
            )
        return
    if reminder.kind == ReminderKind.EXPIRING:
        done.expiring += 1
    else:
        done.waiting += 1
