"""Operator tasks run from the command line."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.common.vault import Vault
from storage.engine import transaction
from storage.models import AuditEvent, Base, Customer, OAuthState, XeroGrant, utcnow

ENCRYPTED_SUFFIX = "_encrypted"


@dataclass(frozen=True)
class RotationReport:
    api_keys: int
    grants: int
    consents_in_progress: int = 0


def encrypted_columns() -> dict[type[Base], tuple[str, ...]]:
    """Every table's columns holding ciphertext, found by name so none can be forgotten."""
    found: dict[type[Base], tuple[str, ...]] = {}
    for mapper in Base.registry.mappers:
        names = tuple(
            attribute.key
            for attribute in mapper.column_attrs
            if attribute.key.endswith(ENCRYPTED_SUFFIX)
        )
        if names:
            found[mapper.class_] = names
    return found


async def rotate_keys(sessions: async_sessionmaker[AsyncSession], vault: Vault) -> RotationReport:
    """Re-encrypt every stored secret under the first key, in one transaction.

    Afterwards the older keys can be removed from TOKEN_ENCRYPTION_KEYS. If any secret
    cannot be decrypted, nothing is changed. Every column named `*_encrypted` is included,
    such as the link token kept with each OAuth `state`: a consent in progress at Xero must
    still find its link once the old key is gone.
    """
    counts: dict[type[Base], int] = {}
    async with transaction(sessions) as session:
        for model, columns in encrypted_columns().items():
            rows = list(await session.scalars(select(model).with_for_update()))
            for row in rows:
                for column in columns:
                    ciphertext = getattr(row, column)
                    if ciphertext is not None:
                        setattr(row, column, vault.rotate(ciphertext))
            counts[model] = len(rows)
        report = RotationReport(
            api_keys=counts.get(Customer, 0),
            grants=counts.get(XeroGrant, 0),
            consents_in_progress=counts.get(OAuthState, 0),
        )
        session.add(
            AuditEvent(
                occurred_at=utcnow(),
                actor="operator",
                action="keys.rotated",
                detail={
                    "api_keys": report.api_keys,
                    "grants": report.grants,
                    "consents_in_progress": report.consents_in_progress,
                },
            )
        )
    return report
