"""The app's Xero tier: issuing a link warns from 80% of its connection limit."""

from __future__ import annotations

import dataclasses

import pytest

from bot import domain
from bot.domain import Dependencies
from bot.domain.tiers import XeroTier, capacity_warning
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.domain_helpers import AGENT, CUSTOMER, consented, option_id, registered


@pytest.mark.parametrize(
    ("tier", "limit"),
    [("starter", 5), ("core", 50), ("plus", 1_000), ("advanced", 10_000), ("enterprise", None)],
)
def test_each_tier_has_xeros_limit(tier: str, limit: int | None) -> None:
    assert XeroTier(tier).connection_limit == limit


def test_the_warning_starts_at_80_percent_and_says_what_happens_at_the_limit() -> None:
    assert capacity_warning(used=3, tier=XeroTier.STARTER) == ""
    near = capacity_warning(used=4, tier=XeroTier.STARTER)
    assert near.startswith("The app has 4 of the 5 Xero organisations the app's starter tier")
    assert "connection-limit page" in near
    full = capacity_warning(used=5, tier=XeroTier.STARTER)
    assert full.startswith("The app is at its Xero connection limit (5 of the 5")
    assert capacity_warning(used=39, tier=XeroTier.CORE) == ""
    assert capacity_warning(used=40, tier=XeroTier.CORE) != ""
    assert capacity_warning(used=10**6, tier=XeroTier.ENTERPRISE) == ""


async def test_a_link_issued_near_the_limit_carries_the_warning(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos, stores=5)
    orgs = [emulator.add_organisation(f"Org {n}") for n in range(4)]
    codes = ["S001", "S002", "S003", "S004"]
    token, view = await consented(deps, emulator, customer, orgs, codes=codes)
    await domain.choice.confirm(
        deps,
        token=token,
        choices={code: option_id(view, f"Org {n}") for n, code in enumerate(codes)},
        actor=CUSTOMER,
    )
    starter = dataclasses.replace(deps, tier=XeroTier.STARTER)
    plus = dataclasses.replace(deps, tier=XeroTier.PLUS)

    first = await domain.links.issue(
        plus, customer_id=customer.id, store_codes=["S005"], actor=AGENT
    )
    assert first.warning == ""
    second = await domain.links.issue(
        starter, customer_id=customer.id, store_codes=["S005"], actor=AGENT
    )
    assert second.warning.startswith("The app has 4 of the 5 Xero organisations")
