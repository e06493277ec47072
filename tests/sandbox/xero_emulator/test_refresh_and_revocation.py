"""Refresh-token rotation, its grace period, access-token expiry and revocation."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.clients.xero import XeroClient
from bot.domain.errors import XeroConnectionGone, XeroGrantRevoked
from tests.conftest import Clock
from tests.sandbox.xero_emulator.helpers import World, consent

# --- refresh and revocation -----------------------------------------------------------------


async def test_refresh_rotates_and_keeps_user_and_auth_event(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")

    second = await client.refresh(refresh_token=first.refresh_token)
    third = await client.refresh(refresh_token=second.refresh_token)

    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert second.access_token != first.access_token
    assert {second.xero_user_id, third.xero_user_id} == {world.pat.user_id}
    assert second.auth_event_id == third.auth_event_id == first.auth_event_id
    assert world.emulator.token_requests[-1]["grant_type"] == "refresh_token"
    assert world.emulator.token_requests[-1]["refresh_token"] == second.refresh_token


async def test_a_rotated_refresh_token_works_within_the_grace_period(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")
    second = await client.refresh(refresh_token=first.refresh_token)
    clock.advance(minutes=29)

    retried = await client.refresh(refresh_token=first.refresh_token)
    retried_again = await client.refresh(refresh_token=first.refresh_token)

    assert retried.refresh_token not in (first.refresh_token, second.refresh_token)
    assert retried_again.refresh_token != retried.refresh_token
    assert (await client.refresh(refresh_token=retried.refresh_token)).refresh_token


async def test_a_rotated_refresh_token_is_refused_after_the_grace_period(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")
    second = await client.refresh(refresh_token=first.refresh_token)
    clock.advance(minutes=30, seconds=1)

    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=first.refresh_token)
    assert (await client.refresh(refresh_token=second.refresh_token)).refresh_token


async def test_concurrent_refreshes_of_one_token_are_all_answered_consistently(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")

    renewed = await asyncio.gather(
        *(client.refresh(refresh_token=tokens.refresh_token) for _ in range(8))
    )

    assert len({r.refresh_token for r in renewed}) == 8
    assert {r.auth_event_id for r in renewed} == {tokens.auth_event_id}
    assert world.client_sleeps == []


async def test_an_expired_access_token_is_refused(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    clock.advance(minutes=30)

    with pytest.raises(XeroConnectionGone):
        await client.connections(access_token=tokens.access_token)
    with pytest.raises(XeroConnectionGone):
        await client.connections(access_token="not-a-token-the-emulator-issued")


async def test_revoke_kills_refresh_tokens_and_removes_every_connection(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    await consent(browser, client, "Acme Ltd — STANDARD")
    tokens = await consent(browser, client, "Beta Cafe — PREMIUM")
    rotated = await client.refresh(refresh_token=tokens.refresh_token)
    assert "Beta Cafe" in (await browser.get("/")).text

    await client.revoke(refresh_token=rotated.refresh_token)

    assert world.emulator.revocations == [rotated.refresh_token]
    for refresh_token in (tokens.refresh_token, rotated.refresh_token):
        with pytest.raises(XeroGrantRevoked):
            await client.refresh(refresh_token=refresh_token)
    assert await client.connections(access_token=rotated.access_token) == []
    assert world.emulator.connections_of(world.pat.user_id) == []
    status = await browser.get("/")
    assert "No connections." in status.text
    with pytest.raises(XeroConnectionGone):
        await client.organisation(access_token=rotated.access_token, tenant_id=world.beta.tenant_id)


async def test_the_user_removing_the_app_in_xero_revokes_the_grant(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")

    world.emulator.revoke_user(world.pat.user_id)

    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=tokens.refresh_token)
    again = await consent(browser, client, "Acme Ltd — STANDARD")
    assert (await client.refresh(refresh_token=again.refresh_token)).refresh_token
