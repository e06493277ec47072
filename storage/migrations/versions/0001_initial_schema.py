"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("cloudpos_group", sa.String(length=200), nullable=False),
        sa.Column("licence", sa.String(length=50), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("cloudpos_group", name=op.f("uq_customers_cloudpos_group")),
        sa.UniqueConstraint("name_key", name=op.f("uq_customers_name_key")),
    )
    op.create_table(
        "xero_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_user_id", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("user_email", sa.String(length=320), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=False),
        sa.Column("access_token_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "needs_reconnect",
                "revoked",
                name="grantstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xero_grants")),
        sa.UniqueConstraint("xero_user_id", name=op.f("uq_xero_grants_xero_user_id")),
    )
    op.create_table(
        "consent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("slack_channel_id", sa.String(length=32), nullable=True),
        sa.Column("slack_message_ts", sa.String(length=32), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "authorised",
                "completed",
                "revoked",
                "cancelled",
                "failed",
                name="consentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("auth_event_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consent_requests_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["xero_grants.id"],
            name=op.f("fk_consent_requests_grant_id_xero_grants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_consent_requests_token_hash")),
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active_in_cloudpos", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_connected",
                "consent_sent",
                "awaiting_choice",
                "connected",
                "disconnected",
                "needs_reconnect",
                name="storestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_stores_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("customer_id", "code", name=op.f("uq_stores_customer_id_code")),
    )
    op.create_table(
        "xero_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_name", sa.String(length=300), nullable=False),
        sa.Column("tenant_type", sa.String(length=50), nullable=False),
        sa.Column("plan_class", sa.String(length=50), nullable=False),
        sa.Column("edition", sa.String(length=50), nullable=False),
        sa.Column("is_demo_company", sa.Boolean(), nullable=False),
        sa.Column("auth_event_id", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "disconnected", name="connectionstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["xero_grants.id"],
            name=op.f("fk_xero_connections_grant_id_xero_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xero_connections")),
        sa.UniqueConstraint(
            "grant_id", "tenant_id", name=op.f("uq_xero_connections_grant_id_tenant_id")
        ),
        sa.UniqueConstraint(
            "xero_connection_id", name=op.f("uq_xero_connections_xero_connection_id")
        ),
    )
    with op.batch_alter_table("xero_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_xero_connections_auth_event_id"), ["auth_event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_xero_connections_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "consent_request_stores",
        sa.Column("consent_request_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_request_id"],
            ["consent_requests.id"],
            name=op.f("fk_consent_request_stores_consent_request_id_consent_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_consent_request_stores_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "consent_request_id", "store_id", name=op.f("pk_consent_request_stores")
        ),
    )
    op.create_table(
        "store_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("consent_request_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("linked_by", sa.String(length=200), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unlinked_by", sa.String(length=200), nullable=True),
        sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_store_links_connection_id_xero_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consent_request_id"],
            ["consent_requests.id"],
            name=op.f("fk_store_links_consent_request_id_consent_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_links_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_links")),
    )
    with op.batch_alter_table("store_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_store_links_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            "uq_store_links_one_active_per_store",
            ["store_id"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )


def downgrade() -> None:
    with op.batch_alter_table("store_links", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_store_links_one_active_per_store",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index(batch_op.f("ix_store_links_connection_id"))

    op.drop_table("store_links")
    op.drop_table("consent_request_stores")
    with op.batch_alter_table("xero_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_xero_connections_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_xero_connections_auth_event_id"))

    op.drop_table("xero_connections")
    op.drop_table("stores")
    op.drop_table("consent_requests")
    op.drop_table("xero_grants")
    op.drop_table("customers")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_customer_id"))

    op.drop_table("audit_events")
