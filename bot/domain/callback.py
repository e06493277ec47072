"""The OAuth `state` of one press of "Connect to Xero": issued, claimed once, settled.

A browser may bring Xero's answer back more than once at the same moment (a double click, a
reload while the page is slow). Only the callback that claims the state sends the code to
Xero; the claim is one `UPDATE … WHERE used_at IS NULL` whose row count decides, so it holds
on PostgreSQL under concurrency as well as on SQLite. The others wait for the winner's
outcome and show it, instead of sending the code again and failing.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from bot.domain.errors import (
    Conflict,
    ConsentLinkUnusable,
    DomainError,
    ExternalServiceError,
    OAuthStateRejected,
)
from storage.models import OAuthState

from .base import token_hash
from .consent import ConsentOperations
from .ports import new_code_verifier
from .results import CallbackOutcome, ConsentAttempt

STATE_LIFETIME = timedelta(minutes=30)
START_AGAIN = "Open the link you were sent again and press Connect to Xero."
WAIT_FOR_WINNER = 60.0
"""Seconds a second callback waits for the first; longer than the Xero calls can take."""
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


class CallbackStateOperations(ConsentOperations):
    async def start_consent(self, *, token: str, browser_id: str, actor: str = "customer") -> str:
        """The Xero address to send the customer to, with a `state` bound to link and browser,
        and an S256 PKCE challenge whose verifier never leaves this service."""
        if not browser_id:
            raise OAuthStateRejected(
                "Your browser did not keep this page's cookie. Allow cookies for this site, "
                "then open your link again.",
                reason="no_cookie",
            )
        state = secrets.token_urlsafe(32)
        verifier = new_code_verifier()
        vault = self._deps.vault
        async with self._transaction() as session:
            request = await self._usable_request(session, token)
            session.add(
                OAuthState(
                    state_hash=token_hash(state),
                    consent_request_id=request.id,
                    browser_hash=token_hash(browser_id),
                    link_token_encrypted=vault.encrypt(token),
                    code_verifier_encrypted=vault.encrypt(verifier),
                    created_at=self._now(),
                    expires_at=self._now() + STATE_LIFETIME,
                )
            )
            self._audit(
                session,
                actor=actor,
                action="consent.started",
                customer_id=request.customer_id,
                consent_request_id=request.id,
            )
        return self._deps.xero.authorization_url(state=state, code_verifier=verifier)

    async def verify_callback(self, *, state: str, browser_id: str) -> ConsentAttempt:
        """Check and claim the `state` Xero sent back; it must come from the same browser.

        A second callback with a state already claimed from the same browser waits for the
        first to finish and carries its outcome (`ConsentAttempt.settled`).
        """
        if not state:
            raise OAuthStateRejected(
                f"Xero's answer is missing its sign-in check. {START_AGAIN}", reason="missing"
            )
        digest, browser = token_hash(state), token_hash(browser_id) if browser_id else ""
        async with self._transaction() as session:
            now = self._now()
            claim = await session.execute(
                update(OAuthState)
                .where(
                    OAuthState.state_hash == digest,
                    OAuthState.used_at.is_(None),
                    OAuthState.browser_hash == browser,
                    OAuthState.expires_at > now,
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            row = await session.scalar(select(OAuthState).where(OAuthState.state_hash == digest))
            if row is None:
                raise OAuthStateRejected(
                    f"This answer from Xero does not match a sign-in started here. {START_AGAIN}",
                    reason="unknown",
                )
            won = cast("CursorResult[Any]", claim).rowcount == 1
            if not won and row.used_at is not None and row.browser_hash != browser:
                raise OAuthStateRejected(
                    f"This answer from Xero has already been used. {START_AGAIN}", reason="reused"
                )
            if row.browser_hash != browser:
                raise OAuthStateRejected(
                    "This sign-in was started in a different browser. Finish it in the browser "
                    "where you pressed Connect to Xero, or open your link here and start again.",
                    reason="other_browser",
                )
            if row.expires_at <= now:
                raise OAuthStateRejected(
                    f"This sign-in took too long and has expired. {START_AGAIN}", reason="expired"
                )
            vault = self._deps.vault
            attempt = ConsentAttempt(
                consent_request_id=row.consent_request_id,
                link_token=vault.decrypt(row.link_token_encrypted),
                state_id=row.id,
                code_verifier=(
                    vault.decrypt(row.code_verifier_encrypted)
                    if row.code_verifier_encrypted
                    else None
                ),
            )
        if won:
            return attempt
        return attempt.with_outcome(await self._winners_outcome(attempt.state_id))

    async def _winners_outcome(self, state_id: int) -> CallbackOutcome:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_WINNER
        while True:
            async with self._transaction(read_only=True) as session:
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

    async def _settle(self, attempt: ConsentAttempt, outcome: CallbackOutcome) -> None:
        """Record how the winning callback ended, for the waiting ones to show."""
        if not attempt.state_id or attempt.settled is not None:
            return
        async with self._transaction() as session:
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
