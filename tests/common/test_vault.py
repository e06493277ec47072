from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.common.vault import Vault, VaultError
from bot.maintenance import rotate_keys
from bot.settings import generate_encryption_key
from storage.engine import session_factory, transaction
from storage.models import AuditEvent, Customer, GrantStatus, XeroGrant

OLD, NEW = generate_encryption_key(), generate_encryption_key()


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    vault = Vault([OLD])
    ciphertext = vault.encrypt("xero-refresh-token")
    assert "xero-refresh-token" not in ciphertext
    assert vault.decrypt(ciphertext) == "xero-refresh-token"


def test_first_key_encrypts_and_every_key_decrypts() -> None:
    old_ciphertext = Vault([OLD]).encrypt("secret")
    rotated = Vault([NEW, OLD])
    assert rotated.decrypt(old_ciphertext) == "secret"
    assert Vault([NEW]).decrypt(rotated.encrypt("secret")) == "secret"
    with pytest.raises(VaultError):
        Vault([OLD]).decrypt(rotated.encrypt("secret"))


def test_undecryptable_secret_names_the_fix_not_the_secret() -> None:
    ciphertext = Vault([OLD]).encrypt("the-secret")
    with pytest.raises(VaultError, match="put back the key") as raised:
        Vault([NEW]).decrypt(ciphertext)
    assert "the-secret" not in str(raised.value)
    assert ciphertext not in str(raised.value)


def test_a_vault_needs_a_key() -> None:
    with pytest.raises(VaultError, match="TOKEN_ENCRYPTION_KEYS is empty"):
        Vault([])


async def _store_secrets(engine: AsyncEngine, vault: Vault) -> None:
    async with transaction(session_factory(engine)) as session:
        session.add(
            Customer(
                name="Acme", name_key="acme", cloudpos_group="acme", licence="ProPlus",
                api_key_encrypted=vault.encrypt("cloudpos-key"),
            )
        )  # fmt: skip
        session.add(
            XeroGrant(
                xero_user_id="u1",
                access_token_encrypted=vault.encrypt("access"),
                refresh_token_encrypted=vault.encrypt("refresh"),
                access_token_expires_at=datetime(2026, 1, 1, tzinfo=UTC),
                status=GrantStatus.ACTIVE,
            )
        )


async def test_rotate_keys_reencrypts_every_secret_under_the_first_key(engine: AsyncEngine) -> None:
    await _store_secrets(engine, Vault([OLD]))
    report = await rotate_keys(session_factory(engine), Vault([NEW, OLD]))
    assert (report.api_keys, report.grants) == (1, 1)

    only_new = Vault([NEW])
    async with transaction(session_factory(engine)) as session:
        customer = await session.scalar(select(Customer))
        grant = await session.scalar(select(XeroGrant))
        audit = await session.scalar(select(AuditEvent))
    assert customer is not None
    assert grant is not None
    assert only_new.decrypt(customer.api_key_encrypted) == "cloudpos-key"
    assert only_new.decrypt(grant.access_token_encrypted) == "access"
    assert only_new.decrypt(grant.refresh_token_encrypted) == "refresh"
    assert audit is not None
    assert audit.action == "keys.rotated"


async def test_rotation_changes_nothing_when_a_key_is_missing(engine: AsyncEngine) -> None:
    await _store_secrets(engine, Vault([OLD]))
    with pytest.raises(VaultError):
        await rotate_keys(session_factory(engine), Vault([NEW]))
    async with transaction(session_factory(engine)) as session:
        grant = await session.scalar(select(XeroGrant))
        audits = (await session.scalars(select(AuditEvent))).all()
    assert grant is not None
    assert Vault([OLD]).decrypt(grant.refresh_token_encrypted) == "refresh"
    assert audits == []
