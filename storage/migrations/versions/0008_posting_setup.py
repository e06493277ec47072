"""Posting set-up per store, and ready for sync

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
XERO_ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "store_setups",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", XERO_ID, nullable=False),
        sa.Column("sales_account_id", XERO_ID, nullable=True),
        sa.Column("tax_type", XERO_ID, nullable=True),
        sa.Column("rounding_account_id", XERO_ID, nullable=True),
        sa.Column("gift_card_account_id", XERO_ID, nullable=True),
        sa.Column("tracking_category_id", XERO_ID, nullable=True),
        sa.Column("tracking_option_id", XERO_ID, nullable=True),
        sa.Column("contact_id", XERO_ID, nullable=True),
        sa.Column("contact_name", sa.String(length=300), nullable=True),
        sa.Column("invoice_status", sa.String(length=16), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("payments", sa.JSON(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("validated_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_setups_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_store_setups")),
    )
    with op.batch_alter_table("stores", recreate="never") as table:
        table.add_column(sa.Column("ready_at", WHEN, nullable=True))
        table.add_column(sa.Column("ready_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stores", recreate="never") as table:
        table.drop_column("ready_by")
        table.drop_column("ready_at")
    op.drop_table("store_setups")
