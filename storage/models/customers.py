"""Customers and their Cloud POS stores, with what the helpdesk keeps per store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, StoreStatus, text_enum, utcnow


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
    status: Mapped[StoreStatus] = mapped_column(text_enum(StoreStatus))
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    attention_reason: Mapped[str | None] = mapped_column(String(300))
    """Why the store needs the helpdesk (its organisation was removed at Xero, its plan…)."""
    attention_since: Mapped[datetime | None]
    """When that was first noticed."""
    ready_at: Mapped[datetime | None]
    """When the helpdesk marked it ready for sync; cleared as soon as a step stops holding."""
    ready_by: Mapped[str | None] = mapped_column(String(200))
    first_connected_at: Mapped[datetime | None]
    """When it was first connected: connected again after that, the sync service hears
    "store.reconnected"."""

    customer: Mapped[Customer] = relationship(back_populates="stores")


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
