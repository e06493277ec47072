"""PKCE verifiers and callback outcomes on OAuth states; refresh leases on Xero grants

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_states") as table:
        table.add_column(sa.Column("code_verifier_encrypted", sa.Text(), nullable=True))
        table.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("outcome_reason", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("outcome_message", sa.Text(), nullable=True))
    with op.batch_alter_table("xero_grants") as table:
        table.add_column(sa.Column("refresh_lease", sa.String(length=64), nullable=True))
        table.add_column(
            sa.Column("refresh_lease_until", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("xero_grants") as table:
        table.drop_column("refresh_lease_until")
        table.drop_column("refresh_lease")
    with op.batch_alter_table("oauth_states") as table:
        table.drop_column("outcome_message")
        table.drop_column("outcome_reason")
        table.drop_column("outcome")
        table.drop_column("code_verifier_encrypted")
