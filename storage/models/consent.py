"""Consent links and the OAuth states of consents in progress at Xero."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, ConsentStatus, text_enum, utcnow

if TYPE_CHECKING:
    from .customers import Customer, Store
    from .xero import XeroGrant


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
    status: Mapped[ConsentStatus] = mapped_column(text_enum(ConsentStatus))
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
