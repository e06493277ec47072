"""Injected faults, driven through the bot's real client: 429s, 5xx, delays."""

from __future__ import annotations

import httpx
import pytest

from bot.clients.xero import XeroClient
from bot.domain.errors import ExternalServiceError, XeroGrantRevoked
from tests.sandbox.xero_emulator.helpers import World, consent, make_client

# --- fault injection ------------------------------------------------------------------------


async def test_a_429_is_waited_out_for_retry_after_seconds(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("organisation", status=429, retry_after=2)

    organisation = await client.organisation(
        access_token=tokens.access_token, tenant_id=world.acme.tenant_id
    )

    assert organisation.name == "Acme Ltd"
    assert world.client_sleeps == [2]


async def test_a_429_carries_xeros_rate_limit_headers(
    world: World, browser: httpx.AsyncClient
) -> None:
    world.emulator.fail_next("connections", status=429, retry_after=7, times=2)

    first = await browser.get("/api/connections")
    second = await browser.get("/api/connections")
    third = await browser.get("/api/connections")

    for response in (first, second):
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.headers["X-Rate-Limit-Problem"] == "minute"
    assert third.status_code == 401
    assert third.json()["Title"] == "Unauthorized"


async def test_persistent_5xx_gives_up_with_a_retryable_error(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("connections", status=503, times=10)

    with pytest.raises(ExternalServiceError) as caught:
        await client.connections(access_token=tokens.access_token)

    assert caught.value.retryable is True
    assert world.client_sleeps == [0.5, 1.0, 2.0]


async def test_a_lost_refresh_answer_is_retried_with_the_same_token(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("token", status=502)

    renewed = await client.refresh(refresh_token=tokens.refresh_token)

    sent = [r["refresh_token"] for r in world.emulator.token_requests[-2:]]
    assert sent == [tokens.refresh_token, tokens.refresh_token]
    assert renewed.refresh_token != tokens.refresh_token
    assert world.client_sleeps == [0.5]


async def test_faults_on_revoke_and_delete_count_down(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    (connection,) = await client.connections(access_token=tokens.access_token)
    world.emulator.fail_next("delete", status=500)
    world.emulator.fail_next("revoke", status=503, times=2)

    deleted = await client.delete_connection(
        access_token=tokens.access_token, connection_id=connection.id
    )
    await client.revoke(refresh_token=tokens.refresh_token)

    assert deleted is True
    assert world.emulator.revocations == [tokens.refresh_token] * 3
    assert world.client_sleeps == [0.5, 0.5, 1.0]
    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=tokens.refresh_token)


async def test_a_delay_is_awaited_before_answering(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("connections", status=503, delay=1.0)
    world.emulator.fail_next("connections", status=200, delay=7.5)

    slow = await client.connections(access_token=tokens.access_token)

    assert [c.tenant_name for c in slow] == ["Acme Ltd"]
    assert world.emulator_sleeps == [1.0, 7.5]
    assert world.client_sleeps == [0.5]


def test_fail_next_rejects_nonsense(world: World) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        world.emulator.fail_next("authorize")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        world.emulator.fail_next("token", times=0)


# --- what tests steer and observe: lost answers, outages, calls, refresh tokens -------------


async def test_a_lost_answer_is_acted_on_and_then_never_arrives(
    world: World, browser: httpx.AsyncClient
) -> None:
    async with make_client(world, transport=world.emulator.transport()) as client:
        tokens = await consent(browser, client, "Acme Ltd — STANDARD")
        world.emulator.lose_next_answers("token")

        renewed = await client.refresh(refresh_token=tokens.refresh_token)

    assert world.emulator.call_count("token") == 3  # the code, the lost refresh, the retry
    sent = [r["refresh_token"] for r in world.emulator.token_requests[-2:]]
    assert sent == [tokens.refresh_token, tokens.refresh_token]
    old, new = (world.emulator.refresh_token_info(t.refresh_token) for t in (tokens, renewed))
    assert old is not None
    assert (old.rotated, old.newest) == (True, False)
    assert new is not None
    assert (new.user_id, new.rotated, new.newest) == (world.pat.user_id, False, True)
    assert world.emulator.refresh_token_info("never-issued") is None


async def test_a_fault_until_cleared_answers_every_call_and_shows_as_such(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    world.emulator.fail_next("connections", status=503, times=None)

    for _ in range(2):
        with pytest.raises(ExternalServiceError):
            await client.connections(access_token=tokens.access_token)

    assert world.emulator.call_count("connections") >= 4  # both calls, each retried
    [(endpoint, fault, times)] = world.emulator.pending_faults()
    assert (endpoint, fault.status, times) == ("connections", 503, None)
    world.emulator.clear_faults()
    assert len(await client.connections(access_token=tokens.access_token)) == 1


async def test_an_invited_user_may_authorise_the_organisation(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    world.emulator.invite(world.sam.user_id, [world.acme.tenant_id, world.acme.tenant_id])

    tokens = await consent(browser, client, "Acme Ltd — STANDARD", user=world.sam.user_id)

    assert tokens.xero_user_id == world.sam.user_id
    assert world.emulator.user(world.sam.user_id).tenant_ids.count(world.acme.tenant_id) == 1
    with pytest.raises(ValueError, match="unknown user"):
        world.emulator.invite("nobody", [world.acme.tenant_id])
    with pytest.raises(ValueError, match="unknown tenant"):
        world.emulator.invite(world.sam.user_id, ["no-such-tenant"])
