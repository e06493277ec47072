"""Customer alerts: one per customer with broken stores, updated in place until resolved

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer_alerts",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("report", sa.String(length=80), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_alerts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_alerts")),
    )
    with op.batch_alter_table("customers", recreate="never") as table:
        table.drop_column("alert_report")  # never written: the alert has a table of its own


def downgrade() -> None:
    with op.batch_alter_table("customers", recreate="never") as table:
        table.add_column(sa.Column("alert_report", sa.String(length=80), nullable=True))
    op.drop_table("customer_alerts")
