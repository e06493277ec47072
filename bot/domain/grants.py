"""Keeping Xero access tokens fresh without ever refreshing one token set twice.

Xero rotates the refresh token on every refresh; two processes refreshing copies of the same
token set is the most common cause of `invalid_grant`. So a refresh is claimed with a lease on
the grant's row, taken in a short transaction under the row lock (`SELECT … FOR UPDATE` on
PostgreSQL, the write lock on SQLite, plus an in-process lock); Xero is called outside any
transaction, so no database lock waits on the network; the rotated refresh token is stored
before anyone uses the new access token, and whoever found the lease taken reads it then.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import ExternalServiceError, NotFound, XeroGrantRevoked
from storage.models import (
    ConnectionStatus,
    GrantStatus,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

from .base import linked_stores_of_grant
from .leases import LEASED, GrantLeases, Leased

REFRESH_MARGIN = timedelta(minutes=5)
RECONNECT_MESSAGE = (
    "Xero no longer accepts this connection's authorisation (it was revoked, removed in Xero, "
    "or unused for 60 days). Send the customer a new consent link to reconnect."
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeepAliveReport:
    refreshed: int
    needs_reconnect: int
    failed: int
    revoked: int
    """Grants left with no organisation (a revoke that failed before) revoked now."""
    not_revoked: int


class GrantOperations(GrantLeases):
    async def access_token(self, *, grant_id: int) -> str:
        """A Xero access token for this grant valid for at least five more minutes."""
        return await self._fresh_access_token(grant_id, refreshed_before=None)

    async def keep_grants_alive(self, *, unused_for: timedelta) -> KeepAliveReport:
        """Refresh every active grant not refreshed for `unused_for`; revoke orphaned ones.

        Xero forgets a refresh token unused for 60 days, and the customer would have to
        consent again; running this daily with 30 days keeps quiet grants alive. A grant
        with no organisation left (its revoke failed at disconnect) is revoked again.
        """
        cutoff = self._now() - unused_for
        has_organisation = (
            select(XeroConnection.id)
            .where(
                XeroConnection.grant_id == XeroGrant.id,
                XeroConnection.status == ConnectionStatus.ACTIVE,
            )
            .exists()
        )
        async with self._transaction(read_only=True) as session:
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
            if await self._revoke_if_unused(grant_id, except_connection_id=None, customer_id=None):
                revoked += 1
        refreshed, lost, failed = 0, 0, 0
        for grant_id in stale:
            try:
                await self._fresh_access_token(grant_id, refreshed_before=cutoff)
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

    async def _fresh_access_token(self, grant_id: int, *, refreshed_before: datetime | None) -> str:
        """The grant's access token, refreshed at Xero when it is about to expire.

        No database lock is held while Xero answers: the refresh is claimed with a lease on
        the grant's row (short transaction), done outside any transaction, and stored in a
        second one. Whoever finds the lease taken waits and reads the stored result, so one
        token set is still refreshed once.
        """
        lock = self._grant_locks.setdefault(grant_id, asyncio.Lock())
        async with lock:
            claim = await self._waiting_for_lease(
                lambda: self._claim_refresh(grant_id, refreshed_before=refreshed_before)
            )
            if isinstance(claim, str):
                return claim
            return await self._refresh_claimed(grant_id, *claim)

    async def _claim_refresh(
        self, grant_id: int, *, refreshed_before: datetime | None
    ) -> str | tuple[str, str] | Leased:
        """The current access token (str), or a new lease with the refresh token to use."""
        async with self._transaction() as session:
            grant = await session.scalar(
                select(XeroGrant).where(XeroGrant.id == grant_id).with_for_update()
            )
            if grant is None:
                raise NotFound(f"There is no Xero grant #{grant_id}.")
            if grant.status != GrantStatus.ACTIVE:
                raise XeroGrantRevoked(RECONNECT_MESSAGE)
            vault = self._deps.vault
            expiring = grant.access_token_expires_at - self._now() <= REFRESH_MARGIN
            stale = refreshed_before is not None and grant.refreshed_at < refreshed_before
            if not (expiring or stale):
                return vault.decrypt(grant.access_token_encrypted)
            lease = self._take_lease(grant)
            if lease is None:
                return LEASED
            return lease, vault.decrypt(grant.refresh_token_encrypted)

    async def _refresh_claimed(self, grant_id: int, lease: str, refresh_token: str) -> str:
        try:
            tokens = await self._deps.xero.refresh(refresh_token=refresh_token)
        except XeroGrantRevoked:
            async with self._transaction() as session:
                grant = await self._leased_grant(session, grant_id, lease)
                if grant is not None:
                    await self._mark_needs_reconnect(session, grant)
            raise XeroGrantRevoked(RECONNECT_MESSAGE) from None
        except BaseException:
            await self._release_lease(grant_id, lease)
            raise
        vault = self._deps.vault
        async with self._transaction() as session:
            grant = await self._leased_grant(session, grant_id, lease)
            if grant is None:
                # The lease ran out and another worker refreshed; its tokens stand.
                log.warning("refresh of Xero grant %s finished after its lease", grant_id)
                return tokens.access_token
            grant.refresh_token_encrypted = vault.encrypt(tokens.refresh_token)
            grant.access_token_encrypted = vault.encrypt(tokens.access_token)
            grant.access_token_expires_at = tokens.expires_at
            grant.scopes = " ".join(tokens.scopes) or grant.scopes
            grant.refreshed_at = self._now()
        log.info("refreshed Xero grant %s", grant_id)
        return tokens.access_token

    async def _revoke_if_unused(
        self, grant_id: int, *, except_connection_id: int | None, customer_id: int | None
    ) -> bool:
        """Revoke the grant at Xero if no other organisation of it is active.

        Claimed with the grant's lease, so no refresh runs meanwhile and the token revoked
        is the newest; Xero is called outside any transaction. A consent by the same Xero
        user that stored new tokens meanwhile keeps the grant active.
        """
        lock = self._grant_locks.setdefault(grant_id, asyncio.Lock())
        async with lock:
            claim = await self._waiting_for_lease(
                lambda: self._claim_revoke(grant_id, except_connection_id)
            )
            if claim is None:
                return False
            lease, stored = claim
            vault = self._deps.vault
            failure = ""
            try:
                await self._deps.xero.revoke(refresh_token=vault.decrypt(stored))
            except XeroGrantRevoked:
                pass  # Xero had already dropped it: nothing left to revoke.
            except ExternalServiceError as error:
                failure = error.message
            except BaseException:
                await self._release_lease(grant_id, lease)
                raise
            async with self._transaction() as session:
                grant = await self._leased_grant(session, grant_id, lease)
                if grant is None:
                    return False
                if failure:
                    self._audit(
                        session,
                        actor="system",
                        action="grant.revoke_failed",
                        customer_id=customer_id,
                        xero_user=grant.user_email or grant.xero_user_id,
                        error=failure,
                    )
                    log.warning("could not revoke Xero grant %s: %s", grant_id, failure)
                    return False
                if grant.refresh_token_encrypted != stored:
                    return False
                grant.status = GrantStatus.REVOKED
                return True

    async def _claim_revoke(
        self, grant_id: int, except_connection_id: int | None
    ) -> tuple[str, str] | Leased | None:
        async with self._transaction() as session:
            grant = await session.scalar(
                select(XeroGrant).where(XeroGrant.id == grant_id).with_for_update()
            )
            if grant is None or grant.status != GrantStatus.ACTIVE:
                return None
            others = await session.scalar(
                select(func.count())
                .select_from(XeroConnection)
                .where(
                    XeroConnection.grant_id == grant_id,
                    XeroConnection.id != (except_connection_id or 0),
                    XeroConnection.status == ConnectionStatus.ACTIVE,
                )
            )
            if others:
                return None
            lease = self._take_lease(grant)
            if lease is None:
                return LEASED
            return lease, grant.refresh_token_encrypted

    async def _mark_needs_reconnect(self, session: AsyncSession, grant: XeroGrant) -> None:
        grant.status = GrantStatus.NEEDS_RECONNECT
        stores = list(await session.scalars(linked_stores_of_grant(grant.id)))
        for store in stores:
            store.status = StoreStatus.NEEDS_RECONNECT
            store.status_changed_at = self._now()
        customer_ids: list[int | None] = [*sorted({store.customer_id for store in stores})]
        customer_ids = customer_ids or [None]
        for customer_id in customer_ids:
            self._audit(
                session,
                actor="system",
                action="grant.needs_reconnect",
                customer_id=customer_id,
                xero_user=grant.user_email or grant.xero_user_id,
                stores=[store.code for store in stores if store.customer_id == customer_id],
            )
        log.warning("Xero grant %s needs reconnect: invalid_grant on refresh", grant.id)
