"""A store that needs the helpdesk says why and since when, until it is connected again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import domain
from bot.domain import Dependencies, sync_events
from bot.domain.errors import XeroGrantRevoked
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import transaction
from storage.models import Store, StoreStatus
from tests.conftest import Clock
from tests.domain.test_sync_webhook import add_events
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


class Failing:
    """A webhook answering 503, or accepting once `up`."""

    up = False

    async def deliver(self, *, event_id: int, body: bytes) -> str | None:
        return None if self.up else "the webhook answered HTTP 503"


async def test_the_overview_has_the_sync_webhook_only_while_its_pushes_are_stuck(
    deps: Dependencies, clock: Clock
) -> None:
    await add_events(deps, "A", "A", "B")
    receiver = Failing()
    await sync_events.deliver_due(deps, receiver=receiver)
    since = clock.now
    assert (await domain.attention.overview(deps)).webhook is None  # a failure is not news

    clock.advance(minutes=5)
    await sync_events.deliver_due(deps, receiver=receiver)
    found = await domain.attention.overview(deps)
    assert found.webhook is not None
    assert (found.webhook.waiting, found.webhook.oldest_waiting_since) == (3, since)
    assert found.webhook.last_error == "the webhook answered HTTP 503"
    assert found.webhook.abandoned_last_day == 0
    assert not found.all_good

    clock.advance(days=1)
    await sync_events.deliver_due(deps, receiver=receiver)  # A's first and B's abandoned
    receiver.up = True
    await sync_events.deliver_due(deps, receiver=receiver)  # A's second goes on
    found = await domain.attention.overview(deps)
    assert found.webhook is not None
    assert (found.webhook.waiting, found.webhook.abandoned_last_day) == (0, 2)
    assert found.webhook.oldest_waiting_since is None
    assert found.webhook.last_error == "the webhook answered HTTP 503"

    clock.advance(days=1, seconds=1)
    assert (await domain.attention.overview(deps)).webhook is None
