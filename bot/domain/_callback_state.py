"""How a claimed OAuth `state` ended, for the callbacks that lost the claim to show.

A browser may bring Xero's answer back more than once at the same moment (a double click, a
reload while the page is slow). Only the callback that claims the state sends the code to
Xero; the others wait here for the winner's outcome instead of sending the code again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from storage.models import OAuthState

from ._session import transaction
from .dependencies import Dependencies
from .errors import (
    Conflict,
    ConsentLinkUnusable,
    DomainError,
    ExternalServiceError,
)
from .results import CallbackOutcome, ConsentAttempt

STATE_LIFETIME = timedelta(minutes=30)


START_AGAIN = "Open the link you were sent again and press Connect to Xero."


WAIT_FOR_WINNER = 60.0


POLL_INTERVAL = 0.05


AUTHORISED = "authorised"


CANCELLED = "cancelled"


FAILED = "failed"


UNUSABLE = "unusable"


REFUSED = "refused"


BROKEN = "broken"


UNFINISHED = (
    "Connecting to Xero did not finish in the other tab or window. "
    "Open the link you were sent again and press Connect to Xero."
)


async def winners_outcome(deps: Dependencies, state_id: int) -> CallbackOutcome:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_WINNER
    while True:
        async with transaction(deps, read_only=True) as session:
            row = await session.get(OAuthState, state_id)
            if row is not None and row.outcome is not None:
                return CallbackOutcome(
                    kind=row.outcome,
                    reason=row.outcome_reason or "",
                    message=row.outcome_message or "",
                )
        if loop.time() >= deadline:
            raise Conflict(
                "Xero's answer is still being handled in another tab or window. "
                "Wait a few seconds, then reload this page."
            )
        await asyncio.sleep(POLL_INTERVAL)


async def settle(deps: Dependencies, attempt: ConsentAttempt, outcome: CallbackOutcome) -> None:
    """Record how the winning callback ended, for the waiting ones to show."""
    if not attempt.state_id or attempt.settled is not None:
        return
    async with transaction(deps) as session:
        await session.execute(
            update(OAuthState)
            .where(OAuthState.id == attempt.state_id, OAuthState.outcome.is_(None))
            .values(
                outcome=outcome.kind,
                outcome_reason=outcome.reason[:32],
                outcome_message=outcome.message[:1000],
            )
            .execution_options(synchronize_session=False)
        )


def outcome_of(error: Exception) -> CallbackOutcome:
    """What a waiting callback should show for the winner's error (messages are for people
    and never hold a credential)."""
    if isinstance(error, ExternalServiceError):
        return CallbackOutcome(FAILED, "retryable" if error.retryable else "", error.message)
    if isinstance(error, ConsentLinkUnusable):
        return CallbackOutcome(UNUSABLE, error.reason, error.message)
    if isinstance(error, DomainError):
        return CallbackOutcome(REFUSED, "", error.message)
    return CallbackOutcome(BROKEN, "", UNFINISHED)


def raise_settled(outcome: CallbackOutcome) -> None:
    """Raise the winner's error again for a waiting callback; return if it succeeded."""
    if outcome.kind == FAILED:
        raise ExternalServiceError(outcome.message, retryable=outcome.reason == "retryable")
    if outcome.kind == UNUSABLE:
        raise ConsentLinkUnusable(outcome.message, reason=outcome.reason)
    if outcome.kind in (REFUSED, BROKEN):
        raise Conflict(outcome.message or UNFINISHED)
