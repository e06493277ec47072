"""Operator tasks run from the command line."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.vault import Vault
from storage.engine import transaction
from storage.models import AuditEvent, Customer, XeroGrant, utcnow


@dataclass(frozen=True)
class RotationReport:
    api_keys: int
    grants: int


async def rotate_keys(sessions: async_sessionmaker[AsyncSession], vault: Vault) -> RotationReport:
    """Re-encrypt every stored secret under the first key, in one transaction.

    Afterwards the older keys can be removed from TOKEN_ENCRYPTION_KEYS. If any secret
    cannot be decrypted, nothing is changed.
    """
    async with transaction(sessions) as session:
        customers = list(await session.scalars(select(Customer).with_for_update()))
        for customer in customers:
            customer.api_key_encrypted = vault.rotate(customer.api_key_encrypted)
        grants = list(await session.scalars(select(XeroGrant).with_for_update()))
        for grant in grants:
            grant.access_token_encrypted = vault.rotate(grant.access_token_encrypted)
            grant.refresh_token_encrypted = vault.rotate(grant.refresh_token_encrypted)
        session.add(
            AuditEvent(
                occurred_at=utcnow(),
                actor="operator",
                action="keys.rotated",
                detail={"api_keys": len(customers), "grants": len(grants)},
            )
        )
    return RotationReport(api_keys=len(customers), grants=len(grants))
