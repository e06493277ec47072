"""Two `xero-bot serve` replicas on one PostgreSQL database, asked at once for tokens of an
expired grant: Xero (the emulator, over real HTTP) is asked to refresh it exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.common.vault import Vault
from bot.domain import api_keys
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import RefreshTokenInfo, XeroEmulator
from storage.engine import create_engine, transaction
from storage.migrate import upgrade
from storage.models import XeroGrant
from tests.app.serving import serving
from tests.app.sync_servers import emulator_over_http, refreshes, xero_env
from tests.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENCRYPTION_KEY,
    Clock,
    make_deps,
    new_database_url,
)
from tests.domain_helpers import connected_organisation

pytestmark = pytest.mark.postgres

REQUESTS = 50
STORES = 5
REFRESH_SECONDS = 1.5
"""How long Xero takes to answer the refresh: every request arrives while it is under way."""


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    async for url in new_database_url("postgresql", tmp_path):
        yield url


@pytest.fixture
def emulator() -> XeroEmulator:
    """One that really waits when a delay is injected (the shared fixture's never sleeps)."""
    return XeroEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


async def test_two_replicas_refresh_an_expired_grant_once_for_fifty_callers(
    tmp_path: Path,
    postgres_url: str,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    vault = Vault([ENCRYPTION_KEY])
    engine = create_engine(postgres_url)
    try:
        await upgrade(engine)
        deps = make_deps(engine, clock, cloudpos, emulator)
        organisation = await connected_organisation(deps, cloudpos, emulator, stores=STORES)
        key = await api_keys.create(deps, name="pos-sync", actor="test")
        async with transaction(deps.sessions) as session:
            grant = await session.scalar(select(XeroGrant))
            assert grant is not None
            grant.access_token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
            old_access = vault.decrypt(grant.access_token_encrypted)
            old_refresh = vault.decrypt(grant.refresh_token_encrypted)
        assert refreshes(emulator) == []

        with emulator_over_http(emulator) as xero:
            env = xero_env(tmp_path, database_url=postgres_url, xero=xero)
            with serving(tmp_path, env, count=2) as servers:
                urls = [f"http://127.0.0.1:{server.port}/api/v1/stores/acme" for server in servers]
                async with httpx.AsyncClient(
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=30,
                    limits=httpx.Limits(max_connections=REQUESTS),
                ) as client:
                    for url in urls:  # each replica has seen the key and the database
                        assert (await client.get(f"{url}/S001")).status_code == 200
                    emulator.fail_next("token", status=200, delay=REFRESH_SECONDS)
                    started = datetime.now(UTC)
                    began = time.monotonic()
                    answers = await asyncio.gather(
                        *(
                            client.post(f"{urls[n % 2]}/S{n % STORES + 1:03}/token")
                            for n in range(REQUESTS)
                        )
                    )
                    took = time.monotonic() - began

        assert [answer.status_code for answer in answers] == [200] * REQUESTS, [
            answer.text for answer in answers if answer.status_code != 200
        ][:3]
        assert REFRESH_SECONDS <= took < 30
        bodies = [answer.json() for answer in answers]
        tokens = {body["access_token"] for body in bodies}
        assert len(tokens) == 1, f"{len(tokens)} different access tokens"
        (new_access,) = tokens
        assert new_access != old_access
        assert emulator.access_user(new_access) == "xero-user-1"
        assert {body["tenant_id"] for body in bodies} == {organisation.tenant_id}
        expiries = {datetime.fromisoformat(body["expires_at"]) for body in bodies}
        assert len(expiries) == 1
        (expires_at,) = expiries
        assert expires_at > started + timedelta(minutes=5)

        # Exactly one refresh reached Xero, with the refresh token stored before, and it was
        # stored by the replica that made it (no refresh finished after its lease).
        made = refreshes(emulator)
        assert made == [old_refresh], f"{len(made)} refreshes at Xero"
        outputs = "".join(server.output for server in servers)
        assert outputs.count("refreshed Xero grant") == 1
        assert "after its lease" not in outputs

        # The stored token set is the one Xero issued: the refresh token rotated once.
        async with transaction(deps.sessions) as session:
            stored = await session.scalar(select(XeroGrant))
            assert stored is not None
            assert stored.refresh_lease is None
            assert vault.decrypt(stored.access_token_encrypted) == new_access
            assert stored.access_token_expires_at == expires_at
            new_refresh = vault.decrypt(stored.refresh_token_encrypted)
        assert new_refresh != old_refresh
        user = "xero-user-1"
        assert emulator.refresh_token_info(old_refresh) == RefreshTokenInfo(
            user, rotated=True, revoked=False, newest=False
        )
        assert emulator.refresh_token_info(new_refresh) == RefreshTokenInfo(
            user, rotated=False, revoked=False, newest=True
        )
    finally:
        await engine.dispose()
