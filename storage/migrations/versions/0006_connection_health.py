"""Connection health: scheduled jobs' leases and runs, and what checks notice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index("ix_job_runs_job_started_at", "job_runs", ["job", "started_at"])
    with op.batch_alter_table("stores", recreate="never") as table:
        table.add_column(sa.Column("attention_reason", sa.String(length=300), nullable=True))
        table.add_column(sa.Column("attention_since", WHEN, nullable=True))
    with op.batch_alter_table("customers", recreate="never") as table:
        table.add_column(sa.Column("alert_report", sa.String(length=80), nullable=True))
    with op.batch_alter_table("xero_grants", recreate="never") as table:
        table.add_column(sa.Column("checked_at", WHEN, nullable=True))
        table.add_column(sa.Column("check_failing_since", WHEN, nullable=True))
    with op.batch_alter_table("xero_connections", recreate="never") as table:
        table.add_column(sa.Column("gone_since", WHEN, nullable=True))
        table.add_column(sa.Column("plan_checked_at", WHEN, nullable=True))
        table.add_column(sa.Column("plan_flagged_since", WHEN, nullable=True))
    with op.batch_alter_table("consent_requests", recreate="never") as table:
        table.add_column(sa.Column("reminded_at", WHEN, nullable=True))
        table.add_column(sa.Column("expiry_reminded_at", WHEN, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_requests", recreate="never") as table:
        table.drop_column("expiry_reminded_at")
        table.drop_column("reminded_at")
    with op.batch_alter_table("xero_connections", recreate="never") as table:
        table.drop_column("plan_flagged_since")
        table.drop_column("plan_checked_at")
        table.drop_column("gone_since")
    with op.batch_alter_table("xero_grants", recreate="never") as table:
        table.drop_column("check_failing_since")
        table.drop_column("checked_at")
    with op.batch_alter_table("customers", recreate="never") as table:
        table.drop_column("alert_report")
    with op.batch_alter_table("stores", recreate="never") as table:
        table.drop_column("attention_since")
        table.drop_column("attention_reason")
    op.drop_index("ix_job_runs_job_started_at", table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_table("job_leases")
