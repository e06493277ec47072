"""The sync service's API keys and the outbox of store events

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("first_used_at", WHEN, nullable=True),
        sa.Column("last_used_at", WHEN, nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_keys_key_id")),
    )
    op.create_table(
        "sync_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("cloudpos_group", sa.String(length=200), nullable=False),
        sa.Column("store_code", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("abandoned_at", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_events")),
        sa.UniqueConstraint("position", name=op.f("uq_sync_events_position")),
    )
    op.create_index(
        "ix_sync_events_unpositioned",
        "sync_events",
        ["id"],
        sqlite_where=sa.text("position IS NULL"),
        postgresql_where=sa.text("position IS NULL"),
    )
    op.create_index(
        "ix_sync_events_undelivered",
        "sync_events",
        ["store_id", "position"],
        sqlite_where=sa.text("delivered_at IS NULL AND abandoned_at IS NULL"),
        postgresql_where=sa.text("delivered_at IS NULL AND abandoned_at IS NULL"),
    )
    with op.batch_alter_table("stores", recreate="never") as table:
        table.add_column(sa.Column("first_connected_at", WHEN, nullable=True))
    op.execute(
        "UPDATE stores SET first_connected_at = ("
        " SELECT min(linked_at) FROM store_links WHERE store_links.store_id = stores.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("stores", recreate="never") as table:
        table.drop_column("first_connected_at")
    op.drop_index("ix_sync_events_undelivered", table_name="sync_events")
    op.drop_index("ix_sync_events_unpositioned", table_name="sync_events")
    op.drop_table("sync_events")
    op.drop_table("api_keys")
