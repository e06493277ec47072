"""Xero grants (one token set per Xero user), the organisations they reach, and the
stores linked to them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, ConnectionStatus, GrantStatus, text_enum, utcnow

if TYPE_CHECKING:
    from .customers import Store


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
    status: Mapped[GrantStatus] = mapped_column(text_enum(GrantStatus))
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
    status: Mapped[ConnectionStatus] = mapped_column(text_enum(ConnectionStatus))
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
