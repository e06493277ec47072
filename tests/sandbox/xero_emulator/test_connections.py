"""The API: deleting connections and the Organisation endpoint's plans."""

from __future__ import annotations

import httpx
import pytest

from bot.clients.xero import XeroClient
from bot.domain.errors import XeroConnectionGone
from bot.domain.ports import Organisation
from tests.sandbox.xero_emulator.helpers import World, consent

# --- connections and organisations ----------------------------------------------------------


async def test_delete_connection_removes_only_that_tenant_once(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD", "Beta Cafe — PREMIUM")
    acme = next(c for c in await client.connections(access_token=tokens.access_token)
                if c.tenant_id == world.acme.tenant_id)  # fmt: skip

    assert await client.delete_connection(access_token=tokens.access_token, connection_id=acme.id)
    assert not await client.delete_connection(
        access_token=tokens.access_token, connection_id=acme.id
    )
    remaining = await client.connections(access_token=tokens.access_token)
    assert [c.tenant_name for c in remaining] == ["Beta Cafe"]
    assert (await client.refresh(refresh_token=tokens.refresh_token)).refresh_token


async def test_another_users_connection_cannot_be_deleted(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    pat = await consent(browser, client, "Acme Ltd — STANDARD")
    sam = await consent(browser, client, "Rival Co — GROW", user="sam-0001")
    (rival,) = await client.connections(access_token=sam.access_token)

    assert not await client.delete_connection(access_token=pat.access_token, connection_id=rival.id)
    assert await client.connections(access_token=sam.access_token) == [rival]


async def test_organisation_reports_plan_classes_including_unknown_ones(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD", "Future Shop — FUTURE_PLAN")

    acme = await client.organisation(
        access_token=tokens.access_token, tenant_id=world.acme.tenant_id
    )
    future = await client.organisation(
        access_token=tokens.access_token, tenant_id=world.future.tenant_id
    )

    assert acme == Organisation("Acme Ltd", "STANDARD", "BUSINESS", False, "ACTIVE")
    assert future == Organisation("Future Shop", "FUTURE_PLAN", "BUSINESS", True, "ACTIVE")
    raw = await browser.get(
        "/api/api.xro/2.0/Organisation",
        headers={
            "Authorization": f"Bearer {tokens.access_token}",
            "xero-tenant-id": world.acme.tenant_id,
        },
    )
    (body,) = raw.json()["Organisations"]
    assert body["OrganisationID"] == world.acme.tenant_id
    assert (body["BaseCurrency"], body["CountryCode"]) == ("GBP", "GB")
    assert body["ShortCode"].startswith("!")


async def test_organisation_of_a_tenant_not_connected_is_connection_gone(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")

    for tenant in (world.beta, world.rival):
        with pytest.raises(XeroConnectionGone):
            await client.organisation(access_token=tokens.access_token, tenant_id=tenant.tenant_id)
    raw = await browser.get(
        "/api/api.xro/2.0/Organisation",
        headers={
            "Authorization": f"Bearer {tokens.access_token}",
            "xero-tenant-id": world.beta.tenant_id,
        },
    )
    assert raw.status_code == 403
    assert raw.json()["Title"] == "Forbidden"
    assert raw.json()["Detail"] == "AuthenticationUnsuccessful"
