"""Authorisation codes: exchange, PKCE, expiry, binding and client authentication."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from bot.clients.xero import XeroClient
from bot.domain.errors import ExternalServiceError, XeroGrantRevoked
from bot.domain.ports import new_code_verifier
from tests.conftest import Clock
from tests.sandbox.xero_emulator.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    SCOPES,
    World,
    claims,
    consent,
    make_client,
    open_consent,
    parse_page,
    redirect_query,
    submit,
)

# --- code exchange and connections ----------------------------------------------------------


async def test_full_consent_gives_a_token_set_for_the_user_and_auth_event(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client, state="link-42")
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    assert query["state"] == "link-42"
    assert query["scope"] == " ".join(SCOPES)

    tokens = await client.exchange_code(code=query["code"])

    assert tokens.xero_user_id == world.pat.user_id
    assert tokens.user_email == "pat@harbour.example"
    assert tokens.user_name == "Pat Lee"
    assert tokens.scopes == SCOPES
    (connection,) = world.emulator.connections_of(world.pat.user_id)
    assert tokens.auth_event_id == connection.auth_event_id
    access = claims(tokens.access_token)
    assert access["client_id"] == CLIENT_ID
    assert access["scope"] == list(SCOPES)
    assert access["exp"] == int(world.emulator.clock().timestamp()) + 1800
    sent = world.emulator.token_requests[-1]
    assert sent["grant_type"] == "authorization_code"
    assert sent["redirect_uri"] == REDIRECT_URI
    assert "client_secret" not in sent


async def test_connections_by_auth_event_are_only_this_consents_tenants(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    first = await consent(browser, client, "Acme Ltd — STANDARD")
    second = await consent(browser, client, "Beta Cafe — PREMIUM", "Future Shop — FUTURE_PLAN")

    just_added = await client.connections(
        access_token=second.access_token, auth_event_id=second.auth_event_id
    )
    everything = await client.connections(access_token=second.access_token)

    assert first.auth_event_id != second.auth_event_id
    assert sorted(c.tenant_name for c in just_added) == ["Beta Cafe", "Future Shop"]
    assert {c.auth_event_id for c in just_added} == {second.auth_event_id}
    assert sorted(c.tenant_name for c in everything) == ["Acme Ltd", "Beta Cafe", "Future Shop"]
    assert {c.tenant_type for c in everything} == {"ORGANISATION"}


async def test_reconsenting_a_tenant_keeps_its_connection_and_moves_it_to_the_new_event(
    world: World, client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    await consent(browser, client, "Acme Ltd — STANDARD")
    (before,) = world.emulator.connections_of(world.pat.user_id)
    clock.advance(minutes=10)

    again = await consent(browser, client, "Acme Ltd — STANDARD")

    (after,) = world.emulator.connections_of(world.pat.user_id)
    assert (after.id, after.created) == (before.id, before.created)
    assert after.updated == clock.now > before.updated
    assert after.auth_event_id == again.auth_event_id != before.auth_event_id
    response, page = await open_consent(browser, client)
    assert "(already connected)" in response.text
    assert page.checkbox_labels()[0] == "Acme Ltd — STANDARD"


async def test_an_authorisation_code_is_single_use(
    client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    await client.exchange_code(code=query["code"])

    with pytest.raises(XeroGrantRevoked):
        await client.exchange_code(code=query["code"])


async def allowed_with_pkce(
    client: XeroClient, browser: httpx.AsyncClient, verifier: str
) -> dict[str, str]:
    """Consent through the emulator's page to a request carrying the S256 challenge."""
    url = urlsplit(client.authorization_url(state="pkce", code_verifier=verifier))
    page = parse_page((await browser.get(f"{url.path}?{url.query}")).text)
    return redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )


async def test_a_pkce_code_exchanges_with_its_verifier(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    verifier = new_code_verifier()
    query = await allowed_with_pkce(client, browser, verifier)

    tokens = await client.exchange_code(code=query["code"], code_verifier=verifier)
    assert tokens.xero_user_id == world.pat.user_id


@pytest.mark.parametrize("sent", ["", "another-verifier-" + "x" * 40])
async def test_a_pkce_code_is_refused_without_its_verifier(
    client: XeroClient, browser: httpx.AsyncClient, sent: str
) -> None:
    query = await allowed_with_pkce(client, browser, new_code_verifier())

    with pytest.raises(XeroGrantRevoked):
        await client.exchange_code(code=query["code"], code_verifier=sent or None)


async def test_only_the_s256_challenge_method_is_accepted(
    client: XeroClient, browser: httpx.AsyncClient
) -> None:
    url = urlsplit(client.authorization_url(state="plain", code_verifier=new_code_verifier()))
    page = await browser.get(f"{url.path}?{url.query.replace('S256', 'plain')}")
    assert page.status_code == 400
    assert "code_challenge_method" in page.text


async def test_an_authorisation_code_expires_after_five_minutes(
    client: XeroClient, browser: httpx.AsyncClient, clock: Clock
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    clock.advance(minutes=5)

    with pytest.raises(XeroGrantRevoked):
        await client.exchange_code(code=query["code"])


async def test_an_authorisation_code_is_bound_to_its_redirect_uri(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )

    async with make_client(world, redirect_uri="https://elsewhere.example/cb") as other:
        with pytest.raises(XeroGrantRevoked):
            await other.exchange_code(code=query["code"])
    assert (await client.exchange_code(code=query["code"])).xero_user_id == world.pat.user_id


async def test_a_bad_client_secret_is_invalid_client(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )

    async with make_client(world, client_secret="wrong-secret") as wrong:
        with pytest.raises(ExternalServiceError, match="invalid_client") as caught:
            await wrong.exchange_code(code=query["code"])

    assert caught.value.retryable is False
    assert world.client_sleeps == []


async def test_token_endpoint_accepts_credentials_in_the_form_body(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    form = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}

    good = await browser.post(
        "/identity/connect/token", data={**form, "refresh_token": tokens.refresh_token}
    )
    unknown = await browser.post(
        "/identity/connect/token", data={**form, "refresh_token": "never-issued"}
    )
    wrong = await browser.post(
        "/identity/connect/token",
        data={**form, "client_secret": "nope", "refresh_token": tokens.refresh_token},
    )

    assert good.status_code == 200
    assert set(good.json()) == {
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
        "scope",
    }
    assert good.json()["token_type"] == "Bearer"
    assert good.json()["expires_in"] == 1800
    assert (unknown.status_code, unknown.json()) == (400, {"error": "invalid_grant"})
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
