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
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, XeroGrantRevoked
from storage.models import (
    ConnectionStatus,
    GrantStatus,
    Store,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

from .base import ServiceBase

REFRESH_MARGIN = timedelta(minutes=5)
RECONNECT_MESSAGE = (
    "Xero no longer accepts this connection's authorisation (it was revoked, removed in Xero, "
    "or unused for 60 days). Send the customer a new consent link to reconnect."
)

log = logging.getLogger(__name__)


class GrantOperations(ServiceBase):
    async def access_token(self, *, grant_id: int) -> str:
        """A Xero access token for this grant valid for at least five more minutes."""
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
            if grant.access_token_expires_at - self._now() > REFRESH_MARGIN:
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
        stores = list(
            await session.scalars(
                select(Store)
                .join(StoreLink, StoreLink.store_id == Store.id)
                .join(XeroConnection, StoreLink.connection_id == XeroConnection.id)
                .where(
                    XeroConnection.grant_id == grant.id,
                    XeroConnection.status == ConnectionStatus.ACTIVE,
                    StoreLink.active.is_(True),
                )
            )
        )
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
