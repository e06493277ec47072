"""Xero's app tiers and how many organisations each lets the app connect.

At the limit Xero sends a customer who consents to its connection-limit page instead of
back to us, so the helpdesk should hear well before then.
"""

from __future__ import annotations

from enum import StrEnum

WARN_AT = 0.8
"""The share of the limit in use from which issuing a link warns the agent."""


class XeroTier(StrEnum):
    STARTER = "starter"
    CORE = "core"
    PLUS = "plus"
    ADVANCED = "advanced"
    ENTERPRISE = "enterprise"

    @property
    def connection_limit(self) -> int | None:
        """Organisations the app may have connected at once; None: no limit."""
        return _LIMITS[self]


_LIMITS: dict[XeroTier, int | None] = {
    XeroTier.STARTER: 5,
    XeroTier.CORE: 50,
    XeroTier.PLUS: 1_000,
    XeroTier.ADVANCED: 10_000,
    XeroTier.ENTERPRISE: None,
}


def capacity_warning(*, used: int, tier: XeroTier) -> str:
    """What the agent issuing a link should know about the app's connection limit, or ""."""
    limit = tier.connection_limit
    if limit is None or used < WARN_AT * limit:
        return ""
    share = f"{used} of the {limit} Xero organisations the app's {tier.value} tier allows"
    if used >= limit:
        return (
            f"The app is at its Xero connection limit ({share}): Xero will send the customer "
            "to its connection-limit page instead of connecting. Ask an admin to move the app "
            "to a higher tier, or disconnect organisations nobody uses."
        )
    return (
        f"The app has {share} connected. At the limit Xero sends customers to its "
        "connection-limit page instead of connecting."
    )
