"""Registering and finding customers, and keeping their stores in line with Cloud POS."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import Ambiguous, CloudPosKeyRejected, Conflict, InvalidRequest, NotFound
from sandbox.cloudpos_emulator import CloudPosEmulator, CloudPosStore
from storage.engine import session_factory, transaction
from storage.models import AuditEvent, Customer, Store, StoreStatus
from tests.domain_helpers import find_customer

AGENT = "slack:U001"


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    async with transaction(session_factory(engine)) as session:
        return {
            model.__name__: len((await session.scalars(select(model))).all())
            for model in (Customer, Store, AuditEvent)
        }


async def test_register_validates_the_key_and_syncs_stores(
    deps: Dependencies, cloudpos: CloudPosEmulator, engine: AsyncEngine
) -> None:
    cloudpos.add_account("key-acme", group="acme-group", stores=3)

    customer = await domain.customers.register(
        deps, name="  Acme   Bikes ", api_key="key-acme", actor=AGENT
    )

    assert (customer.name, customer.cloudpos_group, customer.licence) == (
        "Acme Bikes", "acme-group", "ProPlus",
    )  # fmt: skip
    assert [s.code for s in customer.stores] == ["S001", "S002", "S003"]
    assert {s.status for s in customer.stores} == {StoreStatus.NOT_CONNECTED}
    async with transaction(session_factory(engine)) as session:
        stored = await session.scalar(select(Customer))
        audit = await session.scalar(select(AuditEvent))
    assert stored is not None
    assert "key-acme" not in stored.api_key_encrypted
    assert audit is not None
    assert (audit.actor, audit.action, audit.customer_id) == (AGENT, "customer.registered", 1)


async def test_register_refuses_a_licence_other_than_pro_plus(
    deps: Dependencies, cloudpos: CloudPosEmulator, engine: AsyncEngine
) -> None:
    cloudpos.add_account("key-pro", group="small-shop", licence="Pro")
    with pytest.raises(InvalidRequest, match="Cloud POS Pro licence; Xero needs Pro Plus"):
        await domain.customers.register(deps, name="Small", api_key="key-pro", actor=AGENT)
    assert await table_counts(engine) == {"Customer": 0, "Store": 0, "AuditEvent": 0}


async def test_register_with_a_rejected_key_writes_nothing(
    deps: Dependencies, engine: AsyncEngine
) -> None:
    with pytest.raises(CloudPosKeyRejected, match="not valid or not active") as raised:
        await domain.customers.register(deps, name="Nobody", api_key="wrong-key", actor=AGENT)
    assert "wrong-key" not in raised.value.message
    assert await table_counts(engine) == {"Customer": 0, "Store": 0, "AuditEvent": 0}


@pytest.mark.parametrize(
    ("name", "api_key", "message"),
    [("  ", "k", "Give the customer a name"), ("Acme", " ", "Paste the customer's Cloud POS")],
)
async def test_register_needs_a_name_and_a_key(
    deps: Dependencies, name: str, api_key: str, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        await domain.customers.register(deps, name=name, api_key=api_key, actor=AGENT)


async def test_register_refuses_duplicates(deps: Dependencies, cloudpos: CloudPosEmulator) -> None:
    cloudpos.add_account("key-1", group="acme")
    cloudpos.add_account("key-2", group="acme")
    cloudpos.add_account("key-3", group="other")
    await domain.customers.register(deps, name="Acme", api_key="key-1", actor=AGENT)
    with pytest.raises(Conflict, match="group 'acme' is already registered as Acme"):
        await domain.customers.register(deps, name="Acme Two", api_key="key-2", actor=AGENT)
    with pytest.raises(Conflict, match=r"named Acme \(#1\) already exists"):
        await domain.customers.register(deps, name="ACME", api_key="key-3", actor=AGENT)


@pytest.fixture
async def three_customers(deps: Dependencies, cloudpos: CloudPosEmulator) -> None:
    for name in ("Acme Bikes", "Acme Outdoor", "Zephyr Cycles"):
        key = f"key-{name.replace(' ', '-')}"
        cloudpos.add_account(key, group=name.lower())
        await domain.customers.register(deps, name=name, api_key=key, actor=AGENT)


@pytest.mark.usefixtures("three_customers")
async def test_find_by_id_or_name_case_insensitively(deps: Dependencies) -> None:
    assert (await find_customer(deps, query="2")).name == "Acme Outdoor"
    assert (await find_customer(deps, query="#3")).name == "Zephyr Cycles"
    assert (await find_customer(deps, query="acme BIKES")).name == "Acme Bikes"
    assert (await find_customer(deps, query="zephyr")).name == "Zephyr Cycles"


@pytest.mark.usefixtures("three_customers")
async def test_an_ambiguous_name_offers_candidates(deps: Dependencies) -> None:
    with pytest.raises(Ambiguous, match="2 customers match 'acme'") as raised:
        await find_customer(deps, query="acme")
    assert [c.name for c in raised.value.candidates] == ["Acme Bikes", "Acme Outdoor"]


@pytest.mark.usefixtures("three_customers")
async def test_an_unknown_customer_suggests_the_closest_names(deps: Dependencies) -> None:
    with pytest.raises(NotFound, match=r"No customer matches 'Zephir Cycle'\. Did you mean Zephyr"):
        await find_customer(deps, query="Zephir Cycle")
    with pytest.raises(NotFound, match="no customer #42"):
        await find_customer(deps, query="42")
    with pytest.raises(InvalidRequest, match="Say which customer"):
        await find_customer(deps, query="   ")


@pytest.mark.usefixtures("three_customers")
async def test_like_wildcards_in_a_query_match_literally(deps: Dependencies) -> None:
    with pytest.raises(NotFound):
        await find_customer(deps, query="%")


async def test_refresh_stores_adds_renames_and_flags_closed_stores(
    deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key", group="acme", stores=3)
    customer = await domain.customers.register(deps, name="Acme", api_key="key", actor=AGENT)
    stores = cloudpos.accounts["key"].stores
    stores[0].name = "Renamed"
    del stores[1]
    stores.append(CloudPosStore("S009", "New"))

    refreshed = await domain.customers.refresh_stores(deps, customer_id=customer.id, actor=AGENT)

    assert [(s.code, s.name, s.active_in_cloudpos) for s in refreshed.stores] == [
        ("S001", "Renamed", True),
        ("S002", "acme store 2", False),
        ("S003", "acme store 3", True),
        ("S009", "New", True),
    ]
    latest = (await domain.audit.history(deps, customer_id=customer.id))[0]
    assert latest.action == "stores.refreshed"
    assert latest.detail == {"added": ["S009"], "renamed": ["S001"], "deactivated": ["S002"]}


@pytest.mark.usefixtures("three_customers")
async def test_identify_resolves_like_find_without_loading_stores(
    deps: Dependencies,
) -> None:
    found = await domain.customers.identify(deps, query="zephyr")
    assert (found.id, found.name) == (3, "Zephyr Cycles")
    with pytest.raises(Ambiguous):
        await domain.customers.identify(deps, query="acme")
