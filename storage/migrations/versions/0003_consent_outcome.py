"""Consent requests remember who closed them and the Slack message asking for the choice

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_requests") as table:
        table.add_column(sa.Column("finished_by", sa.String(length=200), nullable=True))
        table.add_column(sa.Column("slack_choice_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_requests") as table:
        table.drop_column("slack_choice_ts")
        table.drop_column("finished_by")
