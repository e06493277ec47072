"""Keeping Xero access tokens fresh without ever refreshing one token set twice.

Xero rotates the refresh token on every refresh; two processes refreshing copies of the same
token set is the most common cause of `invalid_grant`. So a refresh happens under a lock on
the grant's row (`SELECT … FOR UPDATE` on PostgreSQL, the write lock on SQLite, plus an
in-process lock), re-reads the row after taking it, and stores the rotated refresh token
before anyone uses the new access token.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ExternalServiceError, NotFound, XeroGrantRevoked
from storage.models import (
    GrantStatus,
    StoreStatus,
    XeroGrant,
)

from .base import ServiceBase, linked_stores_of_grant

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


class GrantOperations(ServiceBase):
    async def access_token(self, *, grant_id: int) -> str:
        """A Xero access token for this grant valid for at least five more minutes."""
        return await self._fresh_access_token(grant_id, refreshed_before=None)

    async def keep_grants_alive(self, *, unused_for: timedelta) -> KeepAliveReport:
        """Refresh every active grant not refreshed for `unused_for`.

        Xero forgets a refresh token unused for 60 days, and the customer would have to
        consent again; running this daily with 30 days keeps quiet grants alive.
        """
        cutoff = self._now() - unused_for
        async with self._transaction() as session:
            grant_ids = list(
                await session.scalars(
                    select(XeroGrant.id).where(
                        XeroGrant.status == GrantStatus.ACTIVE, XeroGrant.refreshed_at < cutoff
                    )
                )
            )
        refreshed, lost, failed = 0, 0, 0
        for grant_id in grant_ids:
            try:
                await self._fresh_access_token(grant_id, refreshed_before=cutoff)
            except XeroGrantRevoked:
                lost += 1
            except ExternalServiceError as error:
                log.warning("keep-alive of Xero grant %s failed: %s", grant_id, error.message)
                failed += 1
            else:
                refreshed += 1
        return KeepAliveReport(refreshed=refreshed, needs_reconnect=lost, failed=failed)

    async def _fresh_access_token(self, grant_id: int, *, refreshed_before: datetime | None) -> str:
        lock = self._grant_locks.setdefault(grant_id, asyncio.Lock())
        revoked = False
        async with lock, self._transaction(write_lock=True) as session:
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
            try:
                tokens = await self._deps.xero.refresh(
                    refresh_token=vault.decrypt(grant.refresh_token_encrypted)
                )
            except XeroGrantRevoked:
                await self._mark_needs_reconnect(session, grant)
                revoked = True
            else:
                grant.refresh_token_encrypted = vault.encrypt(tokens.refresh_token)
                grant.access_token_encrypted = vault.encrypt(tokens.access_token)
                grant.access_token_expires_at = tokens.expires_at
                grant.scopes = " ".join(tokens.scopes) or grant.scopes
                grant.refreshed_at = self._now()
                log.info("refreshed Xero grant %s", grant_id)
        if revoked:
            raise XeroGrantRevoked(RECONNECT_MESSAGE)
        return tokens.access_token

    async def _mark_needs_reconnect(self, session: AsyncSession, grant: XeroGrant) -> None:
        grant.status = GrantStatus.NEEDS_RECONNECT
        stores = list(await session.scalars(linked_stores_of_grant(grant.id)))
        for store in stores:
            store.status = StoreStatus.NEEDS_RECONNECT
            store.status_changed_at = self._now()
        customer_ids = sorted({store.customer_id for store in stores}) or [None]
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
