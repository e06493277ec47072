"""Xero grants: fresh access tokens, one refresh at a time, and unused grants revoked."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ConnectionStatus,
    GrantStatus,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

from ._grant_revoke import revoke_if_unused
from ._leases import (
    LEASE,
    LEASE_WAIT,
    LEASED,
    Leased,
    leased_grant,
    release_lease,
    take_lease,
    waiting_for_lease,
)
from ._queries import linked_stores_of_grant
from ._session import audit, transaction
from ._store_status import set_store_status
from .dependencies import Dependencies
from .errors import ExternalServiceError, NotFound, XeroGrantRevoked

log = logging.getLogger(__name__)


REFRESH_MARGIN = timedelta(minutes=5)
REFRESH_WITHIN = LEASE - timedelta(seconds=15)
"""A refresh (with the client's retries) must end well inside its lease."""
SLOW_REFRESH = "Xero is slow to renew this connection's authorisation. Try again in a minute."


RECONNECT_MESSAGE = (
    "Xero no longer accepts this connection's authorisation (it was revoked, removed in Xero, "
    "or unused for 60 days). Send the customer a new consent link to reconnect."
)


@dataclass(frozen=True)
class AccessToken:
    """An access token and when Xero stops accepting it."""

    value: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class KeepAliveReport:
    refreshed: int
    needs_reconnect: int
    failed: int
    revoked: int
    """Grants left with no organisation (a revoke that failed before) revoked now."""
    not_revoked: int


async def access_token(deps: Dependencies, *, grant_id: int) -> str:
    """A Xero access token for this grant valid for at least five more minutes."""
    return (await fresh_access_token(deps, grant_id=grant_id)).value


async def fresh_access_token(
    deps: Dependencies, *, grant_id: int, refreshed_before: datetime | None = None
) -> AccessToken:
    """The grant's access token with its expiry, valid for at least `REFRESH_MARGIN`;
    refreshed at Xero (once, however many ask at once) when it is not, or when the grant was
    last refreshed before `refreshed_before`.

    A token that is fresh enough is read without a lock, so callers only queue for the
    refresh itself.
    """
    if refreshed_before is None:
        async with transaction(deps, read_only=True) as session:
            grant = await session.get(XeroGrant, grant_id)
            if (
                grant is not None
                and grant.status == GrantStatus.ACTIVE
                and grant.access_token_expires_at - deps.clock() > REFRESH_MARGIN
            ):
                return AccessToken(
                    deps.vault.decrypt(grant.access_token_encrypted),
                    grant.access_token_expires_at,
                )
    return await _fresh_access_token(deps, grant_id, refreshed_before=refreshed_before)


async def keep_alive(deps: Dependencies, *, unused_for: timedelta) -> KeepAliveReport:
    """Refresh every active grant not refreshed for `unused_for`; revoke orphaned ones.

    Xero forgets a refresh token unused for 60 days, and the customer would have to
    consent again; running this daily with 30 days keeps quiet grants alive. A grant
    with no organisation left (its revoke failed at disconnect) is revoked again.
    """
    cutoff = deps.clock() - unused_for
    has_organisation = (
        select(XeroConnection.id)
        .where(
            XeroConnection.grant_id == XeroGrant.id,
            XeroConnection.status == ConnectionStatus.ACTIVE,
        )
        .exists()
    )
    async with transaction(deps, read_only=True) as session:
        orphans = list(
            await session.scalars(
                select(XeroGrant.id).where(
                    XeroGrant.status == GrantStatus.ACTIVE, ~has_organisation
                )
            )
        )
        stale = list(
            await session.scalars(
                select(XeroGrant.id).where(
                    XeroGrant.status == GrantStatus.ACTIVE,
                    XeroGrant.refreshed_at < cutoff,
                    has_organisation,
                )
            )
        )
    revoked = 0
    for grant_id in orphans:
        if await revoke_if_unused(deps, grant_id, except_connection_id=None, customer_id=None):
            revoked += 1
    refreshed, lost, failed = 0, 0, 0
    for grant_id in stale:
        try:
            await _fresh_access_token(deps, grant_id, refreshed_before=cutoff)
        except XeroGrantRevoked:
            lost += 1
        except ExternalServiceError as error:
            log.warning("keep-alive of Xero grant %s failed: %s", grant_id, error.message)
            failed += 1
        else:
            refreshed += 1
    return KeepAliveReport(
        refreshed=refreshed,
        needs_reconnect=lost,
        failed=failed,
        revoked=revoked,
        not_revoked=len(orphans) - revoked,
    )


async def _fresh_access_token(
    deps: Dependencies, grant_id: int, *, refreshed_before: datetime | None
) -> AccessToken:
    """The grant's access token, refreshed at Xero when it is about to expire.

    No database lock is held while Xero answers: the refresh is claimed with a lease on
    the grant's row (short transaction), done outside any transaction, and stored in a
    second one. Whoever finds the lease taken waits and reads the stored result, so one
    token set is still refreshed once.
    """
    lock = deps.grant_locks.setdefault(grant_id, asyncio.Lock())
    try:
        async with asyncio.timeout(LEASE_WAIT.total_seconds()):
            await lock.acquire()
    except TimeoutError:
        raise ExternalServiceError(SLOW_REFRESH, retryable=True) from None
    try:
        claim: AccessToken | tuple[str, str] = await waiting_for_lease(
            deps, lambda: _claim_refresh(deps, grant_id, refreshed_before=refreshed_before)
        )
        if isinstance(claim, AccessToken):
            return claim
        lease, refresh_token = claim
        return await _refresh_claimed(deps, grant_id, lease, refresh_token)
    finally:
        lock.release()


async def _claim_refresh(
    deps: Dependencies, grant_id: int, *, refreshed_before: datetime | None
) -> AccessToken | tuple[str, str] | Leased:
    """The current access token, or a new lease with the refresh token to use."""
    async with transaction(deps) as session:
        grant = await session.scalar(
            select(XeroGrant).where(XeroGrant.id == grant_id).with_for_update()
        )
        if grant is None:
            raise NotFound(f"There is no Xero grant #{grant_id}.")
        if grant.status != GrantStatus.ACTIVE:
            raise XeroGrantRevoked(RECONNECT_MESSAGE)
        vault = deps.vault
        expiring = grant.access_token_expires_at - deps.clock() <= REFRESH_MARGIN
        stale = refreshed_before is not None and grant.refreshed_at < refreshed_before
        if not (expiring or stale):
            return AccessToken(
                vault.decrypt(grant.access_token_encrypted), grant.access_token_expires_at
            )
        lease = take_lease(deps, grant)
        if lease is None:
            return LEASED
        return lease, vault.decrypt(grant.refresh_token_encrypted)


async def _refresh_claimed(
    deps: Dependencies, grant_id: int, lease: str, refresh_token: str
) -> AccessToken:
    try:
        async with asyncio.timeout(REFRESH_WITHIN.total_seconds()):
            tokens = await deps.xero.refresh(refresh_token=refresh_token)
    except TimeoutError:
        # Given up before the lease runs out, so no other replica refreshes meanwhile; if
        # Xero did rotate, it still takes the old refresh token for 30 minutes.
        await release_lease(deps, grant_id, lease)
        raise ExternalServiceError(SLOW_REFRESH, retryable=True) from None
    except XeroGrantRevoked:
        async with transaction(deps) as session:
            grant = await leased_grant(deps, session, grant_id, lease)
            if grant is not None:
                await _mark_needs_reconnect(deps, session, grant)
        raise XeroGrantRevoked(RECONNECT_MESSAGE) from None
    except BaseException:
        await release_lease(deps, grant_id, lease)
        raise
    vault = deps.vault
    async with transaction(deps) as session:
        grant = await leased_grant(deps, session, grant_id, lease)
        if grant is None:
            # The lease ran out and another worker refreshed; its tokens stand.
            log.warning("refresh of Xero grant %s finished after its lease", grant_id)
            return AccessToken(tokens.access_token, tokens.expires_at)
        grant.refresh_token_encrypted = vault.encrypt(tokens.refresh_token)
        grant.access_token_encrypted = vault.encrypt(tokens.access_token)
        grant.access_token_expires_at = tokens.expires_at
        grant.scopes = " ".join(tokens.scopes) or grant.scopes
        grant.refreshed_at = deps.clock()
    log.info("refreshed Xero grant %s", grant_id)
    return AccessToken(tokens.access_token, tokens.expires_at)


async def _mark_needs_reconnect(
    deps: Dependencies, session: AsyncSession, grant: XeroGrant
) -> None:
    grant.status = GrantStatus.NEEDS_RECONNECT
    stores = list(await session.scalars(linked_stores_of_grant(grant.id)))
    for store in stores:
        set_store_status(deps, store, StoreStatus.NEEDS_RECONNECT)
    customer_ids: list[int | None] = [*sorted({store.customer_id for store in stores})]
    customer_ids = customer_ids or [None]
    for customer_id in customer_ids:
        audit(
            deps,
            session,
            actor="system",
            action="grant.needs_reconnect",
            customer_id=customer_id,
            xero_user=grant.user_email or grant.xero_user_id,
            stores=[store.code for store in stores if store.customer_id == customer_id],
        )
    log.warning("Xero grant %s needs reconnect: invalid_grant on refresh", grant.id)
