from __future__ import annotations

import pytest

from bot.domain.plans import PlanPolicy, plan_label

POLICY = PlanPolicy()


@pytest.mark.parametrize("plan", ["STANDARD", "PREMIUM_20", "ULTIMATE", "GROW", "COMPREHENSIVE"])
def test_standard_and_above_are_eligible(plan: str) -> None:
    assessment = POLICY.assess(plan_class=plan, edition="BUSINESS")
    assert assessment.eligible
    assert assessment.recognised
    assert assessment.reason == ""


@pytest.mark.parametrize(
    ("plan", "reason"),
    [
        ("STARTER", "Starter plan — trial, starter and demo organisations cannot be integrated"),
        ("TRIAL", "Trial plan — trial, starter and demo organisations cannot be integrated"),
        ("IGNITE", "Ignite plan — trial, starter and demo organisations cannot be integrated"),
        ("DEMO", "Demo company — trial, starter and demo organisations cannot be integrated"),
    ],
)
def test_trial_starter_and_demo_are_not(plan: str, reason: str) -> None:
    assessment = POLICY.assess(plan_class=plan)
    assert not assessment.eligible
    assert assessment.reason == reason


def test_partner_edition_and_demo_company_are_not() -> None:
    assert not POLICY.assess(plan_class="STANDARD", edition="PARTNER").eligible
    assert not POLICY.assess(plan_class="STANDARD", is_demo_company=True).eligible


def test_a_practice_tenant_is_not_an_organisation() -> None:
    assessment = POLICY.assess(plan_class="STANDARD", tenant_type="PRACTICE")
    assert not assessment.eligible
    assert assessment.reason == "a practice is not an organisation"


@pytest.mark.parametrize("plan", ["", None, "None"])
def test_a_plan_xero_did_not_give_is_not_eligible(plan: str | None) -> None:
    assessment = POLICY.assess(plan_class=plan)
    assert not assessment.eligible
    assert assessment.reason == "Xero did not tell the bot this organisation's plan"


@pytest.mark.parametrize("plan", ["FUTURE_PLAN", "ultra_2031"])
def test_an_unknown_plan_is_eligible_but_flagged(plan: str) -> None:
    assessment = POLICY.assess(plan_class=plan)
    assert assessment.eligible
    assert not assessment.recognised
    assert assessment.reason == "plan not recognised"


def test_policy_is_configuration() -> None:
    strict = PlanPolicy.from_names(classes=["starter", " STANDARD "], editions=[])
    assert not strict.assess(plan_class="STANDARD").eligible
    assert strict.assess(plan_class="TRIAL").eligible
    assert strict.assess(plan_class="PREMIUM", edition="PARTNER").eligible


def test_plan_labels() -> None:
    assert plan_label("PREMIUM_20") == "Premium 20"
    assert plan_label("") == "Unknown"
