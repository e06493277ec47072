"""Which Xero plans may be integrated.

The rule from the setup page this bot replaces: trial and starter (and demo) organisations
cannot be integrated. Xero adds plan names over time (`Organisation.Class` is an open set),
so an unknown plan is let through but flagged, and nothing here ever raises on one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

KNOWN_PLAN_CLASSES = frozenset(
    {
        "DEMO", "TRIAL", "STARTER", "STANDARD", "PREMIUM", "PREMIUM_20", "PREMIUM_50",
        "PREMIUM_100", "LEDGER", "GST_CASHBOOK", "NON_GST_CASHBOOK", "ULTIMATE", "LITE",
        "ULTIMATE_10", "ULTIMATE_20", "ULTIMATE_50", "ULTIMATE_100", "IGNITE", "GROW",
        "COMPREHENSIVE", "SIMPLE", "BASICLITE", "ULTRA",
    }
)  # fmt: skip
DEFAULT_INELIGIBLE_CLASSES = frozenset({"DEMO", "TRIAL", "STARTER", "IGNITE"})
DEFAULT_INELIGIBLE_EDITIONS = frozenset({"PARTNER"})
RULE = "trial, starter and demo organisations cannot be integrated"


@dataclass(frozen=True)
class PlanAssessment:
    eligible: bool
    recognised: bool
    label: str
    reason: str = ""


class OnPlan(Protocol):
    """Anything that knows an organisation's plan: a stored connection, a read of one."""

    @property
    def plan_class(self) -> str | None: ...
    @property
    def edition(self) -> str | None: ...
    @property
    def is_demo_company(self) -> bool: ...
    @property
    def tenant_type(self) -> str: ...


@dataclass(frozen=True)
class PlanPolicy:
    ineligible_classes: frozenset[str] = DEFAULT_INELIGIBLE_CLASSES
    ineligible_editions: frozenset[str] = DEFAULT_INELIGIBLE_EDITIONS

    @classmethod
    def from_names(cls, *, classes: Iterable[str], editions: Iterable[str]) -> PlanPolicy:
        return cls(
            ineligible_classes=frozenset(name.strip().upper() for name in classes if name.strip()),
            ineligible_editions=frozenset(
                name.strip().upper() for name in editions if name.strip()
            ),
        )

    def assess_organisation(self, organisation: OnPlan) -> PlanAssessment:
        """`assess` for an organisation as the bot stored or read it."""
        return self.assess(
            plan_class=organisation.plan_class,
            edition=organisation.edition,
            is_demo_company=organisation.is_demo_company,
            tenant_type=organisation.tenant_type,
        )

    def assess(
        self,
        *,
        plan_class: str | None,
        edition: str | None = None,
        is_demo_company: bool = False,
        tenant_type: str = "ORGANISATION",
    ) -> PlanAssessment:
        """Decide whether an organisation on this plan may be connected, and say why not."""
        plan = (plan_class or "").strip().upper()
        label = plan_label(plan)
        recognised = plan in KNOWN_PLAN_CLASSES
        if (tenant_type or "ORGANISATION").upper() != "ORGANISATION":
            return PlanAssessment(
                False, recognised, label, f"a {tenant_type.lower()} is not an organisation"
            )
        if not plan or plan == "NONE":
            return PlanAssessment(
                False, False, label, "Xero did not tell the bot this organisation's plan"
            )
        if is_demo_company or plan == "DEMO":
            return PlanAssessment(False, recognised, label, f"Demo company — {RULE}")
        if plan in self.ineligible_classes:
            return PlanAssessment(False, recognised, label, f"{label} plan — {RULE}")
        if (edition or "").strip().upper() in self.ineligible_editions:
            return PlanAssessment(
                False,
                recognised,
                label,
                "Partner edition — partner organisations have restricted features and "
                "cannot be integrated",
            )
        return PlanAssessment(True, recognised, label, "" if recognised else "plan not recognised")


def plan_label(plan_class: str | None) -> str:
    """A readable plan name: PREMIUM_20 → "Premium 20", "" → "Unknown"."""
    plan = (plan_class or "").strip()
    return plan.replace("_", " ").title() if plan else "Unknown"
