"""The schema holds the rules it can, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool, QueuePool

from storage.engine import MAX_OVERFLOW, POOL_SIZE, create_engine, session_factory, transaction
from storage.migrate import is_current
from storage.models import (
    Base,
    ConnectionStatus,
    ConsentRequest,
    ConsentStatus,
    Customer,
    GrantStatus,
    Store,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def customer(**overrides: object) -> Customer:
    values: dict[str, object] = {
        "name": "Acme Bikes",
        "name_key": "acme bikes",
        "cloudpos_group": "acme",
        "licence": "ProPlus",
        "api_key_encrypted": "ciphertext",
    }
    return Customer(**(values | overrides))


def grant(user: str = "user-1") -> XeroGrant:
    return XeroGrant(
        xero_user_id=user,
        access_token_encrypted="a",
        refresh_token_encrypted="r",
        access_token_expires_at=NOW,
        status=GrantStatus.ACTIVE,
    )


async def test_migration_matches_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    assert await is_current(engine)


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.sqlite3'}")
    async with engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
    await engine.dispose()


async def test_a_store_has_at_most_one_active_link(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        store = Store(code="S1", name="Main", status=StoreStatus.CONNECTED)
        session.add(customer(stores=[store]))
        the_grant = grant()
        first = XeroConnection(
            grant=the_grant, xero_connection_id="c1", tenant_id="t1", tenant_name="Org 1",
            auth_event_id="e1", status=ConnectionStatus.ACTIVE,
        )  # fmt: skip
        second = XeroConnection(
            grant=the_grant, xero_connection_id="c2", tenant_id="t2", tenant_name="Org 2",
            auth_event_id="e1", status=ConnectionStatus.ACTIVE,
        )  # fmt: skip
        session.add_all([first, second])
        session.add(StoreLink(store=store, connection=first, active=False, linked_by="a"))
        session.add(StoreLink(store=store, connection=first, active=True, linked_by="a"))
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(StoreLink(store_id=store.id, connection_id=second.id, linked_by="b"))
    async with transaction(sessions) as session:
        links = (await session.scalars(select(StoreLink).order_by(StoreLink.id))).all()
        assert [(link.connection_id, link.active) for link in links] == [
            (first.id, False),
            (first.id, True),
        ]


async def test_one_grant_per_xero_user(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        session.add(grant("same-user"))
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(grant("same-user"))


async def test_consent_token_hashes_are_unique(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        owner = customer()
        session.add(owner)
        await session.flush()
        session.add(_request(owner.id, "hash-1"))
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(_request(owner.id, "hash-1"))


async def test_store_codes_are_unique_per_customer_only(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        session.add(customer(stores=[Store(code="S1", name="A", status=StoreStatus.NOT_CONNECTED)]))
        session.add(
            customer(
                name="Other", name_key="other", cloudpos_group="other",
                stores=[Store(code="S1", name="B", status=StoreStatus.NOT_CONNECTED)],
            )
        )  # fmt: skip
    async with transaction(sessions) as session:
        first = await session.scalar(select(Customer).where(Customer.name_key == "acme bikes"))
    assert first is not None
    duplicate = Store(customer_id=first.id, code="S1", name="dup", status=StoreStatus.NOT_CONNECTED)
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(duplicate)


async def test_datetimes_come_back_aware_utc(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        session.add(grant())
    async with transaction(sessions) as session:
        stored = await session.scalar(select(XeroGrant))
        assert stored is not None
        assert stored.access_token_expires_at == NOW
        assert stored.access_token_expires_at.utcoffset() == timedelta(0)


def _request(customer_id: int, digest: str) -> ConsentRequest:
    return ConsentRequest(
        token_hash=digest,
        customer_id=customer_id,
        issued_by="agent",
        status=ConsentStatus.ISSUED,
        expires_at=NOW + timedelta(hours=1),
    )


async def test_postgresql_engines_keep_a_pool_sized_for_concurrent_requests(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    unpooled = create_engine(database_url, poolclass=NullPool)
    try:
        if engine.dialect.name == "postgresql":
            assert isinstance(engine.pool, QueuePool)
            assert (engine.pool.size(), engine.pool._max_overflow) == (POOL_SIZE, MAX_OVERFLOW)
        assert isinstance(unpooled.pool, NullPool)
    finally:
        await engine.dispose()
        await unpooled.dispose()
