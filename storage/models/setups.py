"""Each store's posting set-up: where its sales, tax and payments post in its organisation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

XERO_ID = 64
"""Xero's ids are GUIDs; tax types and account codes are shorter."""


class StoreSetup(Base):
    """A store's choices, each an id in the organisation `tenant_id` they were made in.

    Blank fields are steps not done yet; `payments` maps each Cloud POS tender id to the
    account its takings go to. Every change is audited with before and after.
    """

    __tablename__ = "store_setups"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(XERO_ID))
    sales_account_id: Mapped[str | None] = mapped_column(String(XERO_ID))
    tax_type: Mapped[str | None] = mapped_column(String(XERO_ID))
    rounding_account_id: Mapped[str | None] = mapped_column(String(XERO_ID))
    gift_card_account_id: Mapped[str | None] = mapped_column(String(XERO_ID))
    tracking_category_id: Mapped[str | None] = mapped_column(String(XERO_ID))
    tracking_option_id: Mapped[str | None] = mapped_column(String(XERO_ID))
    contact_id: Mapped[str | None] = mapped_column(String(XERO_ID))
    contact_name: Mapped[str | None] = mapped_column(String(300))
    invoice_status: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[date | None] = mapped_column(Date)
    payments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
    validated_at: Mapped[datetime | None]
    """When every choice was last found still valid at Xero."""
