"""Consent links say where they are reported in the front door's own terms, not Slack's

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

consent_requests = sa.table(
    "consent_requests",
    sa.column("report_to", sa.String),
    sa.column("choice_report", sa.String),
    sa.column("slack_channel_id", sa.String),
    sa.column("slack_message_ts", sa.String),
    sa.column("slack_choice_ts", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("consent_requests", recreate="never") as table:
        table.add_column(sa.Column("report_to", sa.String(length=80), nullable=True))
        table.add_column(sa.Column("choice_report", sa.String(length=80), nullable=True))
    op.execute(
        consent_requests.update()
        .where(
            consent_requests.c.slack_channel_id.is_not(None),
            consent_requests.c.slack_message_ts.is_not(None),
        )
        .values(
            report_to=consent_requests.c.slack_channel_id
            + "/"
            + consent_requests.c.slack_message_ts,
            choice_report=consent_requests.c.slack_choice_ts,
        )
    )
    with op.batch_alter_table("consent_requests", recreate="never") as table:
        table.drop_column("slack_choice_ts")
        table.drop_column("slack_message_ts")
        table.drop_column("slack_channel_id")


def downgrade() -> None:
    with op.batch_alter_table("consent_requests", recreate="never") as table:
        table.add_column(sa.Column("slack_channel_id", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("slack_message_ts", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("slack_choice_ts", sa.String(length=32), nullable=True))
    rows = op.get_bind().execute(
        sa.select(sa.column("id"), consent_requests.c.report_to, consent_requests.c.choice_report)
        .select_from(consent_requests)
        .where(consent_requests.c.report_to.is_not(None))
    )
    for row_id, report_to, choice_report in list(rows):
        channel, _, ts = report_to.partition("/")
        op.execute(
            consent_requests.update()
            .where(sa.column("id") == row_id)
            .values(slack_channel_id=channel, slack_message_ts=ts, slack_choice_ts=choice_report)
        )
    with op.batch_alter_table("consent_requests", recreate="never") as table:
        table.drop_column("choice_report")
        table.drop_column("report_to")
