"""The checklist's order: the first step that does not hold is the one the helpdesk is told."""

from __future__ import annotations

import pytest

from bot.domain.posting_values import STEPS, Checklist

ALL_HOLD = {"pro_plus": True, "connected": True, "plan_eligible": True, "steps_done": len(STEPS)}


def test_a_store_whose_steps_all_hold_may_be_marked_ready() -> None:
    checklist = Checklist(**ALL_HOLD, ready=False)
    assert checklist.setup_complete
    assert checklist.blocking is None


@pytest.mark.parametrize(
    ("failing", "value", "words"),
    [
        ("pro_plus", False, "licence is not Pro Plus"),
        ("connected", False, "not connected to Xero"),
        ("plan_eligible", False, "plan cannot be integrated"),
        ("steps_done", 3, "not complete (3 of 7 done)"),
    ],
)
def test_the_first_step_that_does_not_hold_is_named(
    failing: str, value: object, words: str
) -> None:
    checklist = Checklist(**{**ALL_HOLD, failing: value}, ready=False)  # type: ignore[arg-type]
    assert checklist.blocking is not None
    assert words in checklist.blocking


def test_an_earlier_step_is_named_before_a_later_one() -> None:
    checklist = Checklist(
        pro_plus=True, connected=False, plan_eligible=False, steps_done=0, ready=False
    )
    assert checklist.blocking == "the store is not connected to Xero"
