"""The OAuth side of the Xero client: consent URL, code exchange, token renewal and
revocation, and how the token endpoint's answers are read.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.clients.xero._oauth import AsyncOAuth2Client
from bot.domain.errors import ExternalServiceError, XeroGrantRevoked
from bot.domain.ports import TokenSet, new_code_verifier
from bot.services import xero_client
from bot.settings import Settings
from tests.clients.xero.xero_fixtures import (
    ACCESS,
    AUTH_EVENT,
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    NEW_REFRESH,
    OLD_REFRESH,
    REDIRECT_URI,
    REVOKE_URL,
    SCOPES,
    TOKEN_URL,
    USER_ID,
    assert_no_secrets,
    fake_jwt,
    form,
    token_json,
)

# --- authlib wiring -------------------------------------------------------------------------


def test_authlib_client_is_an_httpx_client() -> None:
    # authlib falls back to httpx only while httpx2 is absent; respx mocks httpx alone.
    assert issubclass(AsyncOAuth2Client, httpx.AsyncClient)


def test_from_settings_uses_the_settings() -> None:
    settings = Settings(
        public_base_url="https://bot.example.com",
        xero_client_id=CLIENT_ID,
        xero_client_secret=CLIENT_SECRET,
    )
    xero = xero_client(settings, max_attempts=2)
    query = parse_qs(urlsplit(xero.authorization_url(state="s")).query)
    assert query["redirect_uri"] == ["https://bot.example.com/xero/callback"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [" ".join(settings.xero_scopes)]
    assert CLIENT_SECRET not in repr(xero)


def test_authorization_url_carries_every_parameter(client: XeroClient) -> None:
    url = client.authorization_url(state="state-123_abc")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE_URL
    query = parse_qs(parts.query)
    assert query == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT_URI],
        "scope": ["openid profile email offline_access accounting.settings.read"],
        "state": ["state-123_abc"],
    }
    assert CLIENT_SECRET not in url


def test_authorization_url_carries_the_s256_pkce_challenge(client: XeroClient) -> None:
    verifier = new_code_verifier()
    query = parse_qs(urlsplit(client.authorization_url(state="s", code_verifier=verifier)).query)

    digest = hashlib.sha256(verifier.encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    assert query["code_challenge_method"] == ["S256"]
    assert verifier not in str(query)
    assert 43 <= len(verifier) <= 128


async def test_exchange_code_sends_the_pkce_verifier(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.post(TOKEN_URL).respond(json=token_json())
    await client.exchange_code(code=CODE, code_verifier="the-verifier")

    form = dict(parse_qsl(route.calls.last.request.content.decode()))
    assert form["code_verifier"] == "the-verifier"
    assert form["code"] == CODE


# --- code exchange --------------------------------------------------------------------------


async def test_exchange_code_returns_the_token_set(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.post(TOKEN_URL).respond(json=token_json())
    before = datetime.now(UTC)
    tokens = await client.exchange_code(code=CODE)
    after = datetime.now(UTC)

    assert tokens.access_token == ACCESS
    assert tokens.refresh_token == NEW_REFRESH
    assert tokens.xero_user_id == USER_ID
    assert tokens.auth_event_id == AUTH_EVENT
    assert tokens.user_email == "pat@harbour.example"
    assert tokens.user_name == "Pat Lee"
    assert tokens.scopes == SCOPES
    assert tokens.expires_at.tzinfo is not None
    low = before + timedelta(seconds=1800) - timedelta(seconds=2)
    high = after + timedelta(seconds=1800) + timedelta(seconds=2)
    assert low <= tokens.expires_at <= high

    assert route.call_count == 1
    request = route.calls.last.request
    assert form(request) == {
        "grant_type": "authorization_code",
        "code": CODE,
        "redirect_uri": REDIRECT_URI,
    }
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_token_set_repr_hides_the_tokens() -> None:
    tokens = TokenSet(
        access_token=ACCESS,
        refresh_token=NEW_REFRESH,
        expires_at=datetime(2026, 1, 1, tzinfo=UTC),
        scopes=SCOPES,
        xero_user_id=USER_ID,
        auth_event_id=None,
        user_name="",
        user_email="",
    )
    assert_no_secrets(repr(tokens))
    assert USER_ID in repr(tokens)


async def test_user_name_falls_back_to_given_and_family_name(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    id_token = fake_jwt({"sub": "id-sub", "given_name": "Pat", "family_name": "Lee"})
    xero_api.post(TOKEN_URL).respond(json=token_json(id_token=id_token))
    tokens = await client.exchange_code(code=CODE)
    assert tokens.user_name == "Pat Lee"
    assert tokens.user_email == ""


async def test_opaque_access_token_falls_back_to_id_token_user(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    id_token = fake_jwt({"sub": "id-sub", "xero_userid": USER_ID})
    xero_api.post(TOKEN_URL).respond(
        json=token_json(access_token="opaque-not-a-jwt", id_token=id_token)
    )
    tokens = await client.exchange_code(code=CODE)
    assert tokens.xero_user_id == USER_ID
    assert tokens.auth_event_id is None
    assert tokens.user_name == ""


async def test_user_id_falls_back_to_id_token_sub(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.post(TOKEN_URL).respond(
        json=token_json(access_token="a.%%%not-base64.b", id_token=fake_jwt({"sub": "id-sub"}))
    )
    tokens = await client.exchange_code(code=CODE)
    assert tokens.xero_user_id == "id-sub"


async def test_explicit_expires_at_is_used(client: XeroClient, xero_api: respx.MockRouter) -> None:
    moment = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    xero_api.post(TOKEN_URL).respond(
        json=token_json(expires_in=None, expires_at=int(moment.timestamp()))
    )
    tokens = await client.exchange_code(code=CODE)
    assert tokens.expires_at == moment


async def test_exchange_code_invalid_grant_is_grant_revoked(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
    with pytest.raises(XeroGrantRevoked) as caught:
        await client.exchange_code(code=CODE)
    assert caught.value.message == (
        "Xero no longer accepts this connection's authorisation; the customer needs to connect "
        "to Xero again."
    )
    assert route.call_count == 1


@pytest.mark.parametrize("code", ["invalid_client", "unauthorized_client"])
async def test_other_oauth_errors_are_not_retryable(
    client: XeroClient, xero_api: respx.MockRouter, code: str
) -> None:
    route = xero_api.post(TOKEN_URL).respond(
        400, json={"error": code, "error_description": f"bad {CLIENT_SECRET}"}
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.refresh(refresh_token=OLD_REFRESH)
    assert not caught.value.retryable
    assert code in caught.value.message
    assert_no_secrets(str(caught.value))
    assert route.call_count == 1


async def test_token_response_without_refresh_token_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    body = token_json()
    del body["refresh_token"]
    xero_api.post(TOKEN_URL).respond(json=body)
    with pytest.raises(ExternalServiceError) as caught:
        await client.exchange_code(code=CODE)
    assert not caught.value.retryable
    assert "offline_access" in caught.value.message


# --- refresh --------------------------------------------------------------------------------


async def test_refresh_returns_the_rotated_refresh_token(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.post(TOKEN_URL).respond(json=token_json())
    tokens = await client.refresh(refresh_token=OLD_REFRESH)
    assert tokens.refresh_token == NEW_REFRESH
    assert tokens.access_token == ACCESS
    assert tokens.xero_user_id == USER_ID
    assert form(route.calls.last.request) == {
        "grant_type": "refresh_token",
        "refresh_token": OLD_REFRESH,
    }


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json=token_json(expires_in="soon")),
        httpx.Response(200, json=token_json(access_token=12345)),
        httpx.Response(200, json=token_json(scope={"a": 1})),
        httpx.Response(400, text="Bad Request"),
    ],
    ids=["html", "list", "expires_in", "access_token", "scope", "400-text"],
)
async def test_malformed_token_response_is_not_retryable(
    client: XeroClient, xero_api: respx.MockRouter, response: httpx.Response
) -> None:
    route = xero_api.post(TOKEN_URL).mock(return_value=response)
    with pytest.raises(ExternalServiceError) as caught:
        await client.refresh(refresh_token=OLD_REFRESH)
    assert not caught.value.retryable
    assert route.call_count == 1


async def test_token_user_unknown_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.post(TOKEN_URL).respond(json=token_json(access_token="opaque", id_token=None))
    with pytest.raises(ExternalServiceError) as caught:
        await client.refresh(refresh_token=OLD_REFRESH)
    assert not caught.value.retryable


# --- revoke ---------------------------------------------------------------------------------


async def test_revoke_posts_the_refresh_token(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.post(REVOKE_URL).respond(200)
    await client.revoke(refresh_token=OLD_REFRESH)
    assert route.call_count == 1
    request = route.calls.last.request
    assert form(request) == {"token": OLD_REFRESH}
    assert request.headers["Authorization"].startswith("Basic ")


async def test_revoke_invalid_grant_is_grant_revoked(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.post(REVOKE_URL).respond(400, json={"error": "invalid_grant"})
    with pytest.raises(XeroGrantRevoked):
        await client.revoke(refresh_token=OLD_REFRESH)
