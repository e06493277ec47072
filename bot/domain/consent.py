"""The customer's trip to Xero and back: opening the link, starting, the callback, cancelling.

Only the callback that claims the OAuth state sends the code to Xero; the claim is one
`UPDATE … WHERE used_at IS NULL` whose row count decides, so it holds on PostgreSQL under
concurrency as well as on SQLite."""

from __future__ import annotations

import secrets
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from storage.models import (
    ConsentStatus,
    OAuthState,
)

from . import links
from ._authorised import abandon_consent, read_organisations, record_consent
from ._callback_state import (
    AUTHORISED,
    CANCELLED,
    START_AGAIN,
    STATE_LIFETIME,
    outcome_of,
    raise_settled,
    settle,
    winners_outcome,
)
from ._leftovers import refuse_late_consent
from ._queries import token_hash
from ._requests import consent_view, record_outcome, usable_request
from ._session import audit, notify, transaction
from .dependencies import Dependencies
from .errors import (
    Conflict,
    ConsentLinkUnusable,
    ExternalServiceError,
    OAuthStateRejected,
)
from .notify import ConsentEventKind
from .ports import new_code_verifier
from .results import CallbackOutcome, ConsentAttempt, ConsentView


async def complete(
    deps: Dependencies, *, attempt: ConsentAttempt, code: str, actor: str = "customer"
) -> ConsentView:
    """Exchange Xero's code, then store the grant and the organisations this consent allowed.

    The organisations are those of the access token's `authentication_event_id`, never
    "the first connection": a Xero user may have connected others before. A failure at
    Xero leaves the link usable and is reported back. A link no longer usable gets
    nothing, and what the consent created at Xero is removed again. A callback that
    lost the claim on the state shows the winner's outcome and sends nothing to Xero.
    """
    if attempt.settled is not None:
        raise_settled(attempt.settled)
        return await links.get(deps, consent_request_id=attempt.consent_request_id)
    try:
        view = await _complete_consent(deps, attempt=attempt, code=code, actor=actor)
    except Exception as error:
        await settle(deps, attempt, outcome_of(error))
        raise
    await settle(deps, attempt, CallbackOutcome(AUTHORISED))
    return view


async def _complete_consent(
    deps: Dependencies, *, attempt: ConsentAttempt, code: str, actor: str
) -> ConsentView:
    try:
        async with transaction(deps, read_only=True) as session:
            await usable_request(deps, session, attempt.link_token)
    except ConsentLinkUnusable as unusable:
        await refuse_late_consent(
            deps, attempt=attempt, unusable=unusable, code=code, tokens=None, actor=actor
        )
    try:
        tokens = await deps.xero.exchange_code(code=code, code_verifier=attempt.code_verifier)
        if not tokens.auth_event_id:
            raise ExternalServiceError(
                "Xero did not say which organisations were just authorised. "
                "Press Connect to Xero again.",
                retryable=True,
            )
        tenants = await deps.xero.connections(
            access_token=tokens.access_token, auth_event_id=tokens.auth_event_id
        )
        organisations = await read_organisations(deps, tokens.access_token, tenants)
    except ExternalServiceError as error:
        view = await record_outcome(
            deps,
            token=attempt.link_token,
            outcome=ConsentStatus.FAILED,
            actor=actor,
            reason=error.message,
        )
        await notify(deps, ConsentEventKind.FAILED, view, error.message)
        raise
    for try_number in (1, 2):
        try:
            view = await record_consent(
                deps, attempt.link_token, tokens, tenants, organisations, actor
            )
            break
        except ConsentLinkUnusable as unusable:
            await refuse_late_consent(
                deps, attempt=attempt, unusable=unusable, code="", tokens=tokens, actor=actor
            )
        except IntegrityError:
            if try_number == 2:
                raise Conflict(
                    "This consent was recorded twice at the same moment; reload the page."
                ) from None
        except SQLAlchemyError as failure:
            await abandon_consent(deps, attempt, tokens, failure, actor)
    await notify(deps, ConsentEventKind.AUTHORISED, view)
    return view


async def cancel(deps: Dependencies, *, attempt: ConsentAttempt, reason: str) -> ConsentView:
    """The customer pressed Cancel at Xero: noted and reported; the link stays usable."""
    if attempt.settled is not None:
        return await links.get(deps, consent_request_id=attempt.consent_request_id)
    view = await record_outcome(
        deps,
        token=attempt.link_token,
        outcome=ConsentStatus.CANCELLED,
        actor="customer",
        reason=reason,
    )
    await settle(deps, attempt, CallbackOutcome(CANCELLED))
    await notify(deps, ConsentEventKind.CANCELLED, view, "the customer cancelled at Xero")
    return view


async def start(deps: Dependencies, *, token: str, browser_id: str, actor: str = "customer") -> str:
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
    vault = deps.vault
    async with transaction(deps) as session:
        request = await usable_request(deps, session, token)
        session.add(
            OAuthState(
                state_hash=token_hash(state),
                consent_request_id=request.id,
                browser_hash=token_hash(browser_id),
                link_token_encrypted=vault.encrypt(token),
                code_verifier_encrypted=vault.encrypt(verifier),
                created_at=deps.clock(),
                expires_at=deps.clock() + STATE_LIFETIME,
            )
        )
        audit(
            deps,
            session,
            actor=actor,
            action="consent.started",
            customer_id=request.customer_id,
            consent_request_id=request.id,
        )
    return deps.xero.authorization_url(state=state, code_verifier=verifier)


async def verify_callback(deps: Dependencies, *, state: str, browser_id: str) -> ConsentAttempt:
    """Check and claim the `state` Xero sent back; it must come from the same browser.

    A second callback with a state already claimed from the same browser waits for the
    first to finish and carries its outcome (`ConsentAttempt.settled`).
    """
    if not state:
        raise OAuthStateRejected(
            f"Xero's answer is missing its sign-in check. {START_AGAIN}", reason="missing"
        )
    digest, browser = token_hash(state), token_hash(browser_id) if browser_id else ""
    async with transaction(deps) as session:
        now = deps.clock()
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
        vault = deps.vault
        attempt = ConsentAttempt(
            consent_request_id=row.consent_request_id,
            link_token=vault.decrypt(row.link_token_encrypted),
            state_id=row.id,
            code_verifier=(
                vault.decrypt(row.code_verifier_encrypted) if row.code_verifier_encrypted else None
            ),
        )
    if won:
        return attempt
    return attempt.with_outcome(await winners_outcome(deps, attempt.state_id))


async def open(deps: Dependencies, *, token: str) -> ConsentView:
    """What a link stands for, for its pages. Changes nothing: scanners fetch links too."""
    async with transaction(deps, read_only=True) as session:
        request = await usable_request(deps, session, token)
        return await consent_view(deps, session, request)
