"""Races, each run many times with `asyncio.gather` on SQLite and PostgreSQL.

Each worker has its own engine, as separate replicas would, so PostgreSQL really runs the
racing transactions at once; the assertions read the rows afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import InvalidRequest
from bot.domain.results import ConsentView
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.models import (
    AuditEvent,
    ConsentRequest,
    ConsentStatus,
    GrantStatus,
    Store,
    StoreLink,
    StoreStatus,
    XeroGrant,
    consent_request_stores,
)
from tests.conftest import Clock, make_deps
from tests.domain_helpers import (
    AGENT,
    BROWSER,
    CUSTOMER,
    allow_at_xero,
    connected_grant,
    expire_soon,
    option_id,
    registered,
    token_of,
)
from tests.web_fixtures import Organisations, local, start_consent

TRIALS = 20


@pytest.fixture
async def workers(
    database_url: str, clock: Clock, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> AsyncIterator[list[Dependencies]]:
    """Three services, each on its own engine (its own connections), like three replicas."""
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        yield [make_deps(engine, clock, cloudpos, emulator) for engine in engines]
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))


async def settle(*calls: Awaitable[Any]) -> list[Any]:
    """Run `calls` at once; each result is a value or the exception it raised."""
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def rows(engine: AsyncEngine, query: Any) -> list[Any]:
    async with transaction(session_factory(engine), read_only=True) as session:
        return list((await session.execute(query)).all())


async def audit_count(engine: AsyncEngine, action: str, consent_request_id: int) -> int:
    found = await rows(
        engine, select(AuditEvent.detail).where(AuditEvent.action == action)
    )  # JSON columns are not comparable on every backend: filter here.
    return sum(1 for (detail,) in found if detail.get("consent_request_id") == consent_request_id)


def code_exchanges(emulator: XeroEmulator) -> int:
    return sum(1 for form in emulator.token_requests if form["grant_type"] == "authorization_code")


async def test_one_state_used_by_two_callbacks_at_once_reaches_xero_once(
    workers: list[Dependencies],
    engine: AsyncEngine,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    first, second, _ = workers
    customer = await registered(first, cloudpos, stores=TRIALS)
    org = emulator.add_organisation("Org")
    for trial in range(TRIALS):
        link = await domain.links.issue(
            first, customer_id=customer.id, store_codes=[f"S{trial + 1:03d}"], actor=AGENT
        )
        url = await domain.consent.start(first, token=token_of(link.url), browser_id=BROWSER)
        state = parse_qs(urlsplit(url).query)["state"][0]
        code = allow_at_xero(emulator, url, [org])
        exchanges = code_exchanges(emulator)

        async def callback(
            worker: Dependencies, state: str = state, code: str = code
        ) -> ConsentView:
            attempt = await domain.consent.verify_callback(worker, state=state, browser_id=BROWSER)
            return await domain.consent.complete(worker, attempt=attempt, code=code)

        outcomes = await settle(callback(first), callback(second))

        assert [getattr(o, "status", o) for o in outcomes] == ["authorised"] * 2, trial
        assert code_exchanges(emulator) == exchanges + 1
        assert await audit_count(engine, "consent.authorised", link.consent_request_id) == 1


async def test_three_gets_of_the_callback_all_end_at_the_organisation_choice(
    web_app: Starlette,
    web_deps: Dependencies,
    engine: AsyncEngine,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
) -> None:
    """A double click and a reload: the page the customer ends on is the choice, not an error."""
    customer = await registered(web_deps, cloudpos, stores=TRIALS)
    for trial in range(TRIALS):
        link = await domain.links.issue(
            web_deps, customer_id=customer.id, store_codes=[f"S{trial + 1:03d}"], actor=AGENT
        )
        transport = httpx.ASGITransport(app=web_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as browser:
            authorise = await start_consent(browser, local(link.url))
            assert authorise["code_challenge_method"] == "S256"
            back = emulator.authorise(
                user_id="xero-user-1",
                tenant_ids=[organisations.standard.tenant_id],
                redirect_uri=authorise["redirect_uri"],
                state=authorise["state"],
                code_challenge=authorise["code_challenge"],
                code_challenge_method="S256",
            )
            pages = await settle(*(browser.get(local(back)) for _ in range(3)))

        choose = f"/connect/{token_of(link.url)}/organisation"
        for page in pages:
            assert isinstance(page, httpx.Response), page
            assert (page.status_code, page.headers.get("location")) == (303, choose), page.text
        assert await audit_count(engine, "consent.authorised", link.consent_request_id) == 1
        assert await audit_count(engine, "consent.failed", link.consent_request_id) == 0


async def test_when_xero_fails_every_get_of_the_callback_shows_that_failure(
    web_app: Starlette,
    web_deps: Dependencies,
    engine: AsyncEngine,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
) -> None:
    customer = await registered(web_deps, cloudpos, stores=TRIALS)
    for trial in range(TRIALS):
        link = await domain.links.issue(
            web_deps, customer_id=customer.id, store_codes=[f"S{trial + 1:03d}"], actor=AGENT
        )
        transport = httpx.ASGITransport(app=web_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as browser:
            authorise = await start_consent(browser, local(link.url))
            back = emulator.authorise(
                user_id="xero-user-1",
                tenant_ids=[organisations.standard.tenant_id],
                redirect_uri=authorise["redirect_uri"],
                state=authorise["state"],
                code_challenge=authorise["code_challenge"],
                code_challenge_method="S256",
            )
            emulator.fail_next("token", status=503, times=3)
            pages = await settle(*(browser.get(local(back)) for _ in range(3)))

        for page in pages:
            assert isinstance(page, httpx.Response), page
            assert page.status_code == 502, trial
            assert "Xero did not finish connecting" in page.text
        assert [name for name, _, _ in emulator.pending_faults()] == ["token"], trial
        emulator.clear_faults()
        assert await audit_count(engine, "consent.failed", link.consent_request_id) == 1


async def test_revoking_while_the_customer_confirms_leaves_one_consistent_outcome(
    workers: list[Dependencies],
    engine: AsyncEngine,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    admin, customer_side, _ = workers
    customer = await registered(admin, cloudpos, stores=TRIALS)
    org = emulator.add_organisation("Org")
    outcomes: set[str] = set()
    for trial in range(TRIALS):
        store = f"S{trial + 1:03d}"
        link = await domain.links.issue(
            admin, customer_id=customer.id, store_codes=[store], actor=AGENT
        )
        token = token_of(link.url)
        url = await domain.consent.start(admin, token=token, browser_id=BROWSER)
        attempt = await domain.consent.verify_callback(
            admin, state=parse_qs(urlsplit(url).query)["state"][0], browser_id=BROWSER
        )
        code = allow_at_xero(emulator, url, [org])
        view = await domain.consent.complete(admin, attempt=attempt, code=code)

        revoked, confirmed = await settle(
            domain.links.revoke(admin, consent_request_id=link.consent_request_id, actor=AGENT),
            domain.choice.confirm(
                customer_side, token=token, choices={store: option_id(view, "Org")}, actor=CUSTOMER
            ),
        )

        [(status,)] = await rows(
            engine,
            select(ConsentRequest.status).where(ConsentRequest.id == link.consent_request_id),
        )
        [(store_status,)] = await rows(engine, select(Store.status).where(Store.code == store))
        linked = await rows(
            engine,
            select(StoreLink.id)
            .join(Store, StoreLink.store_id == Store.id)
            .where(Store.code == store, StoreLink.active.is_(True)),
        )
        if status == ConsentStatus.REVOKED:
            assert not isinstance(revoked, Exception), revoked
            assert isinstance(confirmed, Exception), trial
            assert (store_status, linked) == (StoreStatus.NOT_CONNECTED, []), trial
        else:
            assert status == ConsentStatus.COMPLETED, trial
            assert isinstance(revoked, InvalidRequest), revoked
            assert not isinstance(confirmed, Exception), confirmed
            assert (store_status, len(linked)) == (StoreStatus.CONNECTED, 1), trial
        outcomes.add(status.value)
    print(f"revoke against confirm, {TRIALS} trials: {sorted(outcomes)}")


async def test_two_agents_issuing_at_once_leave_one_open_link_per_store(
    workers: list[Dependencies], engine: AsyncEngine, cloudpos: CloudPosEmulator
) -> None:
    customer = await registered(workers[0], cloudpos, stores=TRIALS)
    for trial in range(TRIALS):
        store = f"S{trial + 1:03d}"
        issued = await settle(
            *(
                domain.links.issue(
                    worker, customer_id=customer.id, store_codes=[store], actor=f"slack:U{n}"
                )
                for n, worker in enumerate(workers[:2])
            )
        )
        assert not any(isinstance(result, Exception) for result in issued), issued

        open_links = await rows(
            engine,
            select(func.count())
            .select_from(consent_request_stores)
            .join(ConsentRequest)
            .join(Store, consent_request_stores.c.store_id == Store.id)
            .where(Store.code == store, ConsentRequest.status == ConsentStatus.ISSUED),
        )
        assert open_links == [(1,)], trial


async def test_a_slow_refresh_at_xero_holds_no_database_lock(
    engine: AsyncEngine,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    """While Xero takes its time renewing one grant, another customer's link is issued."""
    deps = make_deps(engine, clock, cloudpos, emulator)
    grant_id, _ = await connected_grant(deps, cloudpos, emulator)
    other = await registered(deps, cloudpos, name="Other")
    await expire_soon(deps, minutes=2)
    xero_answers = emulator.hold("token")
    refreshing = asyncio.create_task(domain.grants.access_token(deps, grant_id=grant_id))
    await asyncio.wait_for(xero_answers.arrived(), 10)

    link = await asyncio.wait_for(
        domain.links.issue(deps, customer_id=other.id, store_codes=None, actor=AGENT), 10
    )

    xero_answers.release()
    token = await refreshing
    assert link.customer_name == "Other"
    assert token == (await domain.grants.access_token(deps, grant_id=grant_id))


async def test_a_slow_revoke_at_xero_holds_no_database_lock(
    engine: AsyncEngine,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    """Disconnecting the last organisation revokes the grant at Xero; others write meanwhile."""
    deps = make_deps(engine, clock, cloudpos, emulator)
    await connected_grant(deps, cloudpos, emulator)
    other = await registered(deps, cloudpos, name="Other")
    [organisation] = emulator.organisations
    xero_answers = emulator.hold("revoke")
    disconnecting = asyncio.create_task(
        domain.organisations.disconnect(
            deps, customer_id=1, tenant_id=organisation.tenant_id, actor=AGENT
        )
    )
    await asyncio.wait_for(xero_answers.arrived(), 10)

    link = await asyncio.wait_for(
        domain.links.issue(deps, customer_id=other.id, store_codes=None, actor=AGENT), 10
    )

    xero_answers.release()
    result = await disconnecting
    assert link.customer_name == "Other"
    assert result.token_revoked
    [(status, lease)] = await rows(engine, select(XeroGrant.status, XeroGrant.refresh_lease))
    assert (status, lease) == (GrantStatus.REVOKED, None)
