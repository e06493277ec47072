"""Over-long names from Xero and Cloud POS are shortened where parsed; over-long ids refused."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import ExternalServiceError
from sandbox.cloudpos_emulator import CloudPosEmulator, CloudPosStore
from sandbox.xero_emulator import XeroEmulator
from tests.domain_helpers import (
    AGENT,
    CUSTOMER,
    allowed,
    consented,
    option_id,
    registered,
    snapshot,
    token_of,
)

LONG_ORGANISATION = "Acme Holdings " + "x" * 400
LONG_STORE = "Leeds " + "y" * 300


async def test_a_consent_to_an_organisation_with_a_very_long_name_completes(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos, stores=1)
    org = emulator.add_organisation(LONG_ORGANISATION)

    token, view = await consented(deps, emulator, customer, [org], codes=["S001"])
    (option,) = view.organisations
    await domain.choice.confirm(
        deps, token=token, choices={"S001": option.connection_id}, actor=CUSTOMER
    )

    (group,) = (await domain.organisations.summary(deps, customer_id=customer.id)).groups
    assert len(group.tenant_name) == 300
    assert group.tenant_name.startswith("Acme Holdings xxx")
    assert group.tenant_name.endswith("…")
    assert option_id(view, group.tenant_name) == option.connection_id


async def test_stores_with_very_long_names_register_and_refresh(
    deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key-long", group="long", stores=1)
    stores = cloudpos.accounts["key-long"].stores
    stores[0].name = LONG_STORE

    customer = await domain.customers.register(deps, name="Long", api_key="key-long", actor=AGENT)
    stores.append(CloudPosStore("S002", "z" * 5000))
    refreshed = await domain.customers.refresh_stores(deps, customer_id=customer.id, actor=AGENT)

    names = [store.name for store in refreshed.stores]
    assert [len(name) for name in names] == [200, 200]
    assert names[0].startswith("Leeds yyy")


async def test_an_over_long_store_code_is_refused_and_changes_nothing(
    deps: Dependencies, cloudpos: CloudPosEmulator, engine: AsyncEngine
) -> None:
    customer = await registered(deps, cloudpos, stores=1)
    cloudpos.accounts["key-Acme"].stores.append(CloudPosStore("C" * 101, "Odd"))
    before = await snapshot(engine)

    with pytest.raises(ExternalServiceError, match="over 100 characters"):
        await domain.customers.refresh_stores(deps, customer_id=customer.id, actor=AGENT)

    assert await snapshot(engine) == before


async def test_a_consent_that_cannot_be_stored_leaves_nothing_at_xero_and_says_so(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer = await registered(deps, cloudpos, stores=1)
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    org = emulator.add_organisation("Acme Ltd")
    attempt, code = await allowed(deps, emulator, token_of(link.url), [org])

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise DataError("INSERT …", {"access_token_encrypted": "gAAAA-secret"}, Exception("x"))

    monkeypatch.setattr("bot.domain.consent.record_consent", broken)

    with pytest.raises(ExternalServiceError, match="nothing was connected") as raised:
        await domain.consent.complete(deps, attempt=attempt, code=code)

    assert "was removed again" in raised.value.message
    assert emulator.connections_of("xero-user-1") == []
    (latest, *_) = await domain.audit.history(deps, customer_id=customer.id)
    assert latest.action == "consent.failed"
    assert "could not store the consent" in str(latest.detail["reason"])
