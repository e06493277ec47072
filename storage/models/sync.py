"""What the POS→Xero sync service is given: its API keys, and the outbox of store events it
pulls or is pushed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ApiKey(Base):
    """A key the sync service authenticates with. Only a hash of its secret part is kept;
    `key_id` (public, in the key itself) finds the row, so the hash is compared in constant
    time rather than looked up."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    first_used_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncEvent(Base):
    """A change that matters to the sync service, written in the transaction of the change.

    `id` orders inserts, but on PostgreSQL transactions commit in another order than they
    took ids; `position`, given to committed events one at a time under a lock, is the order
    the feed and the webhook follow, so a reader never skips an event that commits late.
    """

    __tablename__ = "sync_events"
    __table_args__ = (
        Index(
            "ix_sync_events_unpositioned",
            "id",
            sqlite_where=text("position IS NULL"),
            postgresql_where=text("position IS NULL"),
        ),
        Index(
            "ix_sync_events_undelivered",
            "store_id",
            "position",
            sqlite_where=text("delivered_at IS NULL AND abandoned_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL AND abandoned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    customer_id: Mapped[int] = mapped_column(Integer)
    store_id: Mapped[int] = mapped_column(Integer)
    """No foreign key: the event outlives a store Cloud POS no longer lists."""
    cloudpos_group: Mapped[str] = mapped_column(String(200))
    store_code: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Webhook deliveries tried so far."""
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None]
    """When the webhook stopped trying (a day of failures, or older than that when first
    pushed); the event stays in the pull feed."""
    last_error: Mapped[str | None] = mapped_column(Text)
