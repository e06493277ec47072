"""A store that needs the helpdesk says why and since when, until it is connected again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import XeroGrantRevoked
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import transaction
from storage.models import Store, StoreStatus
from tests.conftest import Clock
from tests.domain_helpers import CUSTOMER, connected_grant, consented, option_id


async def store_s001(deps: Dependencies) -> Store:
    async with transaction(deps.sessions, read_only=True) as session:
        store = await session.scalar(select(Store).where(Store.code == "S001"))
    assert store is not None
    return store


async def test_a_revoked_grant_says_why_and_a_new_consent_clears_it(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    clock.advance(hours=1)
    noticed = clock.now

    with pytest.raises(XeroGrantRevoked):
        await domain.grants.access_token(deps, grant_id=grant_id)

    broken = await store_s001(deps)
    assert broken.status == StoreStatus.NEEDS_RECONNECT
    assert broken.attention_reason is not None
    assert broken.attention_reason.startswith("Xero no longer accepts the authorisation")
    assert broken.attention_since == noticed
    overview = await domain.attention.overview(deps)
    assert [s.code for c in overview.customers for s in c.stores] == ["S001"]

    clock.advance(hours=1)
    customer = await domain.customers.identify(deps, query="Acme")
    view = await domain.customers.get(deps, customer_id=customer.id)
    org = emulator.add_organisation("Org Again")
    token, consent = await consented(deps, emulator, view, [org], codes=["S001"])
    await domain.choice.confirm(
        deps,
        token=token,
        choices={"S001": option_id(consent, "Org Again")},
        actor=CUSTOMER,
        replace=True,
    )

    fixed = await store_s001(deps)
    assert (fixed.status, fixed.attention_reason, fixed.attention_since) == (
        StoreStatus.CONNECTED,
        None,
        None,
    )
    assert (await domain.attention.overview(deps)).customers == ()
