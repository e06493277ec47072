"""Access tokens for the sync service: the one Xero issued, never a refresh token, renewed
once however many ask together, and a clear answer when there is none to give."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from bot.app import create_app
from bot.common.vault import Vault
from bot.domain import Dependencies
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.models import StoreStatus, XeroGrant
from tests.conftest import ENCRYPTION_KEY, Clock
from tests.domain.posting_helpers import connected
from tests.domain_helpers import registered
from tests.handlers.api.api_helpers import grants, ok, problem, store_status
from tests.web_fixtures import BOT, web_settings

pytestmark = pytest.mark.asyncio

VAULT = Vault([ENCRYPTION_KEY])


def refreshes(emulator: XeroEmulator) -> list[str]:
    """The refresh tokens Xero's token endpoint was sent, in order."""
    return [
        form["refresh_token"]
        for form in emulator.token_requests
        if form.get("grant_type") == "refresh_token"
    ]


async def expire_soon(deps: Dependencies, *, minutes: float) -> None:
    """The stored access token expires in `minutes` (Xero's expiry is stamped with real
    time, so moving the test clock would make every new token look expiring too)."""
    async with transaction(deps.sessions) as session:
        await session.execute(
            update(XeroGrant).values(
                access_token_expires_at=deps.clock() + timedelta(minutes=minutes)
            )
        )


def when(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def test_the_token_is_the_one_xero_issued_for_the_stores_organisation(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    store = await connected(web_deps, cloudpos, emulator)
    [grant] = await grants(web_deps)
    refresh_token = VAULT.decrypt(grant.refresh_token_encrypted)

    response = await api.post("/api/v1/stores/acme/S001/token")

    body = ok(response)
    assert set(body) == {"access_token", "tenant_id", "expires_at"}
    assert body["access_token"] == VAULT.decrypt(grant.access_token_encrypted)
    record = emulator.access_record(body["access_token"])
    assert record is not None, "not a token the emulated Xero issued"
    assert record.user_id == "xero-user-1"
    assert body["tenant_id"] == store.organisation.tenant_id
    assert when(body["expires_at"]) - clock() >= timedelta(minutes=5)
    assert refresh_token not in response.text
    assert "refresh" not in response.text
    assert refreshes(emulator) == [], "a fresh token is given as it is"
    again = ok(await api.post("/api/v1/stores/acme/S002/token"))
    assert again == body


@pytest.fixture
async def replicas(
    database_url: str, web_deps: Dependencies, api_key: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two replicas of the bot, each with its own engine and in-process lock."""
    engines = [create_engine(database_url) for _ in range(2)]
    clients = []
    for engine in engines:
        deps = replace(web_deps, sessions=session_factory(engine), grant_locks={})
        app: Starlette = create_app(web_settings(), deps=deps)
        clients.append(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=BOT,
                headers={"Authorization": f"Bearer {api_key}"},
            )
        )
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()
        for engine in engines:
            await engine.dispose()


CALLERS = 50


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_token_near_expiry_is_refreshed_once_for_fifty_callers(
    replicas: list[httpx.AsyncClient],
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    store = await connected(web_deps, cloudpos, emulator, stores=5)
    [grant] = await grants(web_deps)
    old_access = VAULT.decrypt(grant.access_token_encrypted)
    old_refresh = VAULT.decrypt(grant.refresh_token_encrypted)
    await expire_soon(web_deps, minutes=4)

    answers = await asyncio.gather(
        *(
            replicas[n % 2].post(f"/api/v1/stores/acme/{store.codes[n % 5]}/token")
            for n in range(CALLERS)
        )
    )

    bodies = [ok(answer) for answer in answers]
    assert refreshes(emulator) == [old_refresh], "one refresh, with the stored token"
    tokens = {body["access_token"] for body in bodies}
    assert len(tokens) == 1
    [new] = tokens
    assert new != old_access
    assert emulator.access_record(new) is not None
    assert all(when(body["expires_at"]) - clock() >= timedelta(minutes=5) for body in bodies)
    [stored] = await grants(web_deps)
    assert VAULT.decrypt(stored.access_token_encrypted) == new
    assert stored.refresh_lease is None
    info = emulator.refresh_token_info(VAULT.decrypt(stored.refresh_token_encrypted))
    assert info is not None
    assert info.newest
    assert not info.rotated


async def test_a_store_not_connected_gets_409_not_connected(
    api: httpx.AsyncClient, web_deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    await registered(web_deps, cloudpos, name="Acme", stores=1)

    body = problem(await api.post("/api/v1/stores/acme/S001/token"), 409)

    assert body["store_status"] == "not_connected"
    assert body["type"] == "urn:xero-bot:problem:not-connected"
    problem(await api.post("/api/v1/stores/acme/S404/token"), 404)


async def test_a_revoked_grant_gets_409_needs_reconnect_and_the_store_is_marked(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    await expire_soon(web_deps, minutes=4)

    body = problem(await api.post("/api/v1/stores/acme/S001/token"), 409)

    assert body["store_status"] == "needs_reconnect"
    assert body["type"] == "urn:xero-bot:problem:needs-reconnect"
    assert await store_status(web_deps, "S001") == StoreStatus.NEEDS_RECONNECT
    assert await store_status(web_deps, "S002") == StoreStatus.NEEDS_RECONNECT
    assert len(refreshes(emulator)) == 1
    again = problem(await api.post("/api/v1/stores/acme/S002/token"), 409)
    assert again["store_status"] == "needs_reconnect"
    assert len(refreshes(emulator)) == 1, "known broken: Xero is not asked again"
    listed = ok(await api.get("/api/v1/stores/acme/S001"))
    assert listed["status"] == "needs_reconnect"
    assert listed["attention"]


async def test_xero_down_is_503_with_retry_after_and_nothing_is_lost(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    await expire_soon(web_deps, minutes=4)
    emulator.fail_next("token", status=503, times=None)

    response = await api.post("/api/v1/stores/acme/S001/token")

    problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    assert await store_status(web_deps, "S001") == StoreStatus.CONNECTED
    [grant] = await grants(web_deps)
    assert grant.refresh_lease is None, "the failed refresh gave its lease back"

    emulator.clear_faults()
    body = ok(await api.post("/api/v1/stores/acme/S001/token"))
    assert emulator.access_record(body["access_token"]) is not None
