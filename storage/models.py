"""Tables of the connection domain (see DESIGN.md, "The connection domain").

The rules the database can hold are held here, not only in code: one active link per store,
one grant per Xero user, unique consent token hashes, one store code per customer.
Secrets are stored only as ciphertext from `bot.common.vault.Vault`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoreStatus(StrEnum):
    NOT_CONNECTED = "not_connected"
    CONSENT_SENT = "consent_sent"
    AWAITING_CHOICE = "awaiting_choice"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    NEEDS_RECONNECT = "needs_reconnect"


class GrantStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    REVOKED = "revoked"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"


class ConsentStatus(StrEnum):
    ISSUED = "issued"
    AUTHORISED = "authorised"
    COMPLETED = "completed"
    REVOKED = "revoked"
    CANCELLED = "cancelled"
    FAILED = "failed"


def _enum(enum: type[StrEnum]) -> Enum:
    return Enum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime}


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    cloudpos_group: Mapped[str] = mapped_column(String(200), unique=True)
    licence: Mapped[str] = mapped_column(String(50))
    api_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    stores: Mapped[list[Store]] = relationship(
        back_populates="customer", order_by="Store.code", cascade="all, delete-orphan"
    )


class Store(Base):
    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("customer_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    active_in_cloudpos: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[StoreStatus] = mapped_column(_enum(StoreStatus))
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    attention_reason: Mapped[str | None] = mapped_column(String(300))
    """Why the store needs the helpdesk (its organisation was removed at Xero, its plan…)."""
    attention_since: Mapped[datetime | None]
    """When that was first noticed."""

    customer: Mapped[Customer] = relationship(back_populates="stores")


class XeroGrant(Base):
    """One token set per Xero user: tokens belong to the user, not to an organisation."""

    __tablename__ = "xero_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_name: Mapped[str] = mapped_column(String(200), default="")
    user_email: Mapped[str] = mapped_column(String(320), default="")
    access_token_encrypted: Mapped[str] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime]
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[GrantStatus] = mapped_column(_enum(GrantStatus))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
    refresh_lease: Mapped[str | None] = mapped_column(String(64))
    """Who is refreshing this token set at Xero right now; the refresh runs outside any
    transaction, so this row, not a lock, keeps it to one refresh at a time."""
    refresh_lease_until: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    """The last connection check that reached Xero for this grant."""
    check_failing_since: Mapped[datetime | None]
    """Since when checks could not reach Xero for it (429, 5xx, timeouts): not broken, unknown."""

    connections: Mapped[list[XeroConnection]] = relationship(back_populates="grant")


class XeroConnection(Base):
    """A Xero organisation (tenant) a grant may access, with the plan read at consent."""

    __tablename__ = "xero_connections"
    __table_args__ = (UniqueConstraint("grant_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("xero_grants.id", ondelete="CASCADE"))
    xero_connection_id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    tenant_name: Mapped[str] = mapped_column(String(300))
    tenant_type: Mapped[str] = mapped_column(String(50), default="ORGANISATION")
    plan_class: Mapped[str] = mapped_column(String(50), default="")
    edition: Mapped[str] = mapped_column(String(50), default="")
    is_demo_company: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_event_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    gone_since: Mapped[datetime | None]
    """When a check found the organisation no longer connected on Xero's side."""
    plan_checked_at: Mapped[datetime | None]
    plan_flagged_since: Mapped[datetime | None]
    """Since when its plan cannot be integrated (posting will fail); None when it can."""

    grant: Mapped[XeroGrant] = relationship(back_populates="connections")


class StoreLink(Base):
    """A store connected to one organisation; the active links of an organisation are its group."""

    __tablename__ = "store_links"
    __table_args__ = (
        Index(
            "uq_store_links_one_active_per_store",
            "store_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("xero_connections.id", ondelete="CASCADE"), index=True
    )
    consent_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlinked_by: Mapped[str | None] = mapped_column(String(200))
    unlinked_at: Mapped[datetime | None]

    store: Mapped[Store] = relationship()
    connection: Mapped[XeroConnection] = relationship()


consent_request_stores = Table(
    "consent_request_stores",
    Base.metadata,
    Column(
        "consent_request_id",
        Integer,
        ForeignKey("consent_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("store_id", Integer, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)


class ConsentRequest(Base):
    """What a consent link stands for. The link's token is kept only as its SHA-256 hash."""

    __tablename__ = "consent_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    issued_by: Mapped[str] = mapped_column(String(200))
    reminded_at: Mapped[datetime | None]
    """When the issuer was reminded that the customer has not finished."""
    expiry_reminded_at: Mapped[datetime | None]
    report_to: Mapped[str | None] = mapped_column(String(80))
    """Where the front door that issued the link hears of it (its own reference)."""
    choice_report: Mapped[str | None] = mapped_column(String(80))
    """The report asking for the organisation choice, replaced by the outcome later."""
    status: Mapped[ConsentStatus] = mapped_column(_enum(ConsentStatus))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    finished_by: Mapped[str | None] = mapped_column(String(200))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("xero_grants.id", ondelete="SET NULL"))
    auth_event_id: Mapped[str | None] = mapped_column(String(64))

    customer: Mapped[Customer] = relationship()
    grant: Mapped[XeroGrant | None] = relationship()
    stores: Mapped[list[Store]] = relationship(
        secondary=consent_request_stores, order_by="Store.code"
    )


class OAuthState(Base):
    """One press of "Connect to Xero": the OAuth `state`, bound to its link and its browser.

    Only hashes of the state and the browser cookie are kept; the link's token is kept
    encrypted so the callback can send the customer back to their link. Used once: the
    callback that claims it (`used_at`) sends the code to Xero; another one (a double
    click, a reload) waits for and shows its `outcome`.
    """

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    consent_request_id: Mapped[int] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="CASCADE"), index=True
    )
    browser_hash: Mapped[str] = mapped_column(String(64))
    link_token_encrypted: Mapped[str] = mapped_column(Text)
    code_verifier_encrypted: Mapped[str | None] = mapped_column(Text)
    """The PKCE verifier of this authorisation request (RFC 7636, S256)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    """How the callback that used this state ended, for a second callback to show too."""
    outcome_reason: Mapped[str | None] = mapped_column(String(32))
    outcome_message: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Who did what, when, to which customer, store or organisation. Never holds a secret."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    store_id: Mapped[int | None] = mapped_column(Integer)
    connection_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class JobLease(Base):
    """Which process runs a scheduled job now; a crashed holder's lease simply runs out."""

    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class JobRun(Base):
    """One run of a scheduled job: when, by whom, how it ended and what it counted."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started_at", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    """ok, failed, or None while running (or if the process died)."""
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class CustomerAlert(Base):
    """The alert a customer's broken stores raised: where it was reported, and what it said."""

    __tablename__ = "customer_alerts"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    report: Mapped[str | None] = mapped_column(String(80))
    """Where the front door posted it (its own reference), to update it in place."""
    digest: Mapped[str | None] = mapped_column(String(64))
    """A hash of what it says now: an alert is reported again only when this changes."""
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
