from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.clients.xero._oauth import AsyncOAuth2Client
from bot.domain.errors import (
    DomainError,
    ExternalServiceError,
    InvalidRequest,
    XeroConnectionGone,
    XeroGrantRevoked,
)
from bot.domain.ports import Organisation, TokenSet, XeroTenantConnection, new_code_verifier
from bot.services import xero_client
from bot.settings import Settings

AUTHORIZE_URL = "https://login.xero.test/identity/connect/authorize"
TOKEN_URL = "https://identity.xero.test/connect/token"
REVOKE_URL = "https://identity.xero.test/connect/revocation"
API_URL = "https://api.xero.test"
ORGANISATION_URL = f"{API_URL}/api.xro/2.0/Organisation"
CONNECTIONS_URL = f"{API_URL}/connections"

CLIENT_ID = "CLIENTID0123"
CLIENT_SECRET = "client-SECRET-do-not-leak-42"
REDIRECT_URI = "https://bot.example.com/xero/callback"
SCOPES = ("openid", "profile", "email", "offline_access", "accounting.settings.read")
CODE = "auth-CODE-single-use-7f3a"
OLD_REFRESH = "refresh-OLD-9c1d2e"
NEW_REFRESH = "refresh-NEW-5b6a7f"

USER_ID = "0f3e2d1c-aaaa-bbbb-cccc-000000000001"
AUTH_EVENT = "5e4d3c2b-aaaa-bbbb-cccc-000000000002"
TENANT_A = "a1a1a1a1-0000-0000-0000-00000000000a"
TENANT_B = "b2b2b2b2-0000-0000-0000-00000000000b"


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(claims: dict[str, object]) -> str:
    """header.payload.signature with a meaningless signature: the client must not verify it."""
    return f"{_segment({'alg': 'RS256', 'typ': 'JWT'})}.{_segment(claims)}.c2lnbmF0dXJl"


ACCESS = fake_jwt(
    {
        "iss": "https://identity.xero.com",
        "sub": "access-sub",
        "xero_userid": USER_ID,
        "authentication_event_id": AUTH_EVENT,
        "scope": list(SCOPES),
        "marker": "ACCESS-TOKEN-MARKER",
    }
)
ID_TOKEN = fake_jwt(
    {
        "sub": "id-sub",
        "xero_userid": USER_ID,
        "email": "pat@harbour.example",
        "given_name": "Pat",
        "family_name": "Lee",
        "name": "Pat Lee",
    }
)
SECRETS = (ACCESS, ID_TOKEN, CLIENT_SECRET, CODE, OLD_REFRESH, NEW_REFRESH, "ACCESS-TOKEN-MARKER")


def token_json(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id_token": ID_TOKEN,
        "access_token": ACCESS,
        "expires_in": 1800,
        "token_type": "Bearer",
        "refresh_token": NEW_REFRESH,
        "scope": " ".join(SCOPES),
    }
    body.update(overrides)
    return body


def organisation_json(**overrides: object) -> dict[str, object]:
    org: dict[str, object] = {
        "OrganisationID": TENANT_A,
        "Name": "Harbour Cafés Ltd",
        "Class": "GROW",
        "Edition": "BUSINESS",
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
    }
    org.update(overrides)
    return {"Organisations": [org]}


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode()))


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def client(sleep: FakeSleep) -> AsyncIterator[XeroClient]:
    async with XeroClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        revoke_url=REVOKE_URL,
        api_url=API_URL,
        sleep=sleep,
    ) as xero:
        yield xero


@pytest.fixture
def xero_api() -> AsyncIterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


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


async def test_exchange_code_is_not_retried_on_timeout(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=token_json())]
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.exchange_code(code=CODE)
    assert caught.value.retryable
    assert "connect to Xero again" in caught.value.message
    assert route.call_count == 1
    assert sleep.delays == []


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


async def test_refresh_invalid_grant_is_grant_revoked_and_not_retried(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
    with pytest.raises(XeroGrantRevoked):
        await client.refresh(refresh_token=OLD_REFRESH)
    assert route.call_count == 1
    assert sleep.delays == []


async def test_refresh_retries_a_lost_answer_with_the_same_refresh_token(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=token_json())]
    )
    tokens = await client.refresh(refresh_token=OLD_REFRESH)
    assert tokens.refresh_token == NEW_REFRESH
    assert route.call_count == 2
    sent = [form(call.request)["refresh_token"] for call in route.calls]
    assert sent == [OLD_REFRESH, OLD_REFRESH]
    assert sleep.delays == [0.5]


async def test_refresh_gives_up_after_max_attempts_of_5xx(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(TOKEN_URL).respond(503, text="Service Unavailable")
    with pytest.raises(ExternalServiceError) as caught:
        await client.refresh(refresh_token=OLD_REFRESH)
    assert caught.value.retryable
    assert caught.value.message.startswith("Xero is not answering right now")
    assert route.call_count == 4
    assert sleep.delays == [0.5, 1, 2]


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


async def test_revoke_retries_5xx(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.post(REVOKE_URL).mock(side_effect=[httpx.Response(502), httpx.Response(200)])
    await client.revoke(refresh_token=OLD_REFRESH)
    assert route.call_count == 2
    assert sleep.delays == [0.5]


# --- connections ----------------------------------------------------------------------------


def connection_json(tenant_id: str = TENANT_A, name: str = "Harbour Cafés Ltd") -> dict[str, str]:
    return {
        "id": f"conn-{tenant_id}",
        "authEventId": AUTH_EVENT,
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": name,
        "createdDateUtc": "2026-11-23T09:00:00.0000000",
        "updatedDateUtc": "2026-11-23T09:00:00.0000000",
    }


async def test_connections_filters_by_auth_event(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(CONNECTIONS_URL).respond(
        json=[connection_json(), connection_json(TENANT_B, "Harbour Bakery")]
    )
    connections = await client.connections(access_token=ACCESS, auth_event_id=AUTH_EVENT)
    assert connections == [
        XeroTenantConnection(
            id=f"conn-{TENANT_A}",
            tenant_id=TENANT_A,
            tenant_name="Harbour Cafés Ltd",
            tenant_type="ORGANISATION",
            auth_event_id=AUTH_EVENT,
        ),
        XeroTenantConnection(
            id=f"conn-{TENANT_B}",
            tenant_id=TENANT_B,
            tenant_name="Harbour Bakery",
            tenant_type="ORGANISATION",
            auth_event_id=AUTH_EVENT,
        ),
    ]
    request = route.calls.last.request
    assert request.url.params["authEventId"] == AUTH_EVENT
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert "xero-tenant-id" not in request.headers


async def test_connections_without_filter_sends_no_query(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(CONNECTIONS_URL).respond(json=[])
    assert await client.connections(access_token=ACCESS) == []
    assert route.calls.last.request.url.query == b""


@pytest.mark.parametrize(
    "body",
    [{"not": "a list"}, [1], [{"tenantId": TENANT_A}], [{"id": "x", "tenantId": 5}]],
    ids=["object", "number", "no-id", "tenant-id-number"],
)
async def test_connections_wrong_shape_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter, body: object
) -> None:
    xero_api.get(CONNECTIONS_URL).respond(json=body)
    with pytest.raises(ExternalServiceError) as caught:
        await client.connections(access_token=ACCESS)
    assert not caught.value.retryable


async def test_connections_401_is_connection_gone(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(CONNECTIONS_URL).respond(401, json={"Title": "Unauthorized"})
    with pytest.raises(XeroConnectionGone):
        await client.connections(access_token=ACCESS)


async def test_delete_connection_204_is_true(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.delete(f"{CONNECTIONS_URL}/conn-1").respond(204)
    assert await client.delete_connection(access_token=ACCESS, connection_id="conn-1") is True
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {ACCESS}"


async def test_delete_connection_404_is_false(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.delete(f"{CONNECTIONS_URL}/conn-1").respond(404)
    assert await client.delete_connection(access_token=ACCESS, connection_id="conn-1") is False
    assert route.call_count == 1
    assert sleep.delays == []


async def test_delete_connection_quotes_the_id(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.delete(f"{CONNECTIONS_URL}/a%2Fb").respond(204)
    assert await client.delete_connection(access_token=ACCESS, connection_id="a/b") is True
    assert route.call_count == 1


# --- organisation ---------------------------------------------------------------------------


async def test_organisation_is_read_with_tenant_header(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(json=organisation_json())
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation == Organisation(
        name="Harbour Cafés Ltd",
        plan_class="GROW",
        edition="BUSINESS",
        is_demo_company=False,
        status="ACTIVE",
    )
    request = route.calls.last.request
    assert request.headers["xero-tenant-id"] == TENANT_A
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"


async def test_organisation_unknown_class_passes_through(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(ORGANISATION_URL).respond(
        json=organisation_json(Class="FUTURE_PLAN", Edition="PARTNER", IsDemoCompany=True)
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation.plan_class == "FUTURE_PLAN"
    assert organisation.edition == "PARTNER"
    assert organisation.is_demo_company is True


async def test_organisation_missing_optional_fields_are_empty(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(ORGANISATION_URL).respond(
        json={"Organisations": [{"Name": "Bare", "Class": None}]}
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation == Organisation(
        name="Bare", plan_class="", edition="", is_demo_company=False, status=""
    )


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="{not json"),
        httpx.Response(200, json=[]),
        httpx.Response(200, json={"Organisations": []}),
        httpx.Response(200, json={"Organisations": ["x"]}),
        httpx.Response(200, json={"Organisations": [{"Class": "GROW"}]}),
        httpx.Response(200, json=organisation_json(IsDemoCompany="yes")),
        httpx.Response(200, json=organisation_json(Class=7)),
    ],
    ids=["not-json", "list", "empty", "string", "no-name", "demo-text", "class-number"],
)
async def test_organisation_wrong_shape_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter, response: httpx.Response
) -> None:
    xero_api.get(ORGANISATION_URL).mock(return_value=response)
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert not caught.value.retryable


async def test_organisation_429_waits_retry_after(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2", "X-Rate-Limit-Problem": "minute"}),
            httpx.Response(200, json=organisation_json()),
        ]
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation.name == "Harbour Cafés Ltd"
    assert route.call_count == 2
    assert sleep.delays == [2]


async def test_organisation_429_with_long_retry_after_fails_at_once(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(
        429, headers={"Retry-After": "40000", "X-Rate-Limit-Problem": "day"}
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert caught.value.retryable
    assert "daily" in caught.value.message
    assert "about 12 hours" in caught.value.message
    assert route.call_count == 1
    assert sleep.delays == []


async def test_organisation_429_every_time_gives_up_retryable(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(429, headers={"Retry-After": "3"})
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert caught.value.retryable
    assert route.call_count == 4
    assert sleep.delays == [3, 3, 3]


async def test_organisation_5xx_and_timeouts_retry_then_fail(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    route = xero_api.get(ORGANISATION_URL).mock(
        side_effect=[
            httpx.Response(500),
            httpx.ConnectTimeout("slow"),
            httpx.ConnectError("refused"),
            httpx.Response(503),
        ]
    )
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert caught.value.retryable
    assert caught.value.message.startswith("Xero is not answering right now")
    assert route.call_count == 4
    assert sleep.delays == [0.5, 1, 2]


async def test_organisation_recovers_after_a_timeout(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep
) -> None:
    xero_api.get(ORGANISATION_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=organisation_json())]
    )
    organisation = await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert organisation.status == "ACTIVE"
    assert sleep.delays == [0.5]


@pytest.mark.parametrize("status", [401, 403])
async def test_organisation_refused_is_connection_gone(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep, status: int
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(status, json={"Title": "Forbidden"})
    with pytest.raises(XeroConnectionGone):
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert route.call_count == 1
    assert sleep.delays == []


async def test_organisation_other_4xx_is_not_retryable(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(ORGANISATION_URL).respond(400, json={"Message": "bad"})
    with pytest.raises(ExternalServiceError) as caught:
        await client.organisation(access_token=ACCESS, tenant_id=TENANT_A)
    assert not caught.value.retryable
    assert route.call_count == 1


async def test_unusable_access_token_is_rejected_without_echo(client: XeroClient) -> None:
    bad = "secret token\nwith newline"
    with pytest.raises(InvalidRequest) as caught:
        await client.organisation(access_token=bad, tenant_id=TENANT_A)
    assert bad not in str(caught.value)


async def test_at_most_five_concurrent_calls_per_tenant(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    in_flight = {TENANT_A: 0, TENANT_B: 0}
    peak = {TENANT_A: 0, TENANT_B: 0}
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        tenant = request.headers["xero-tenant-id"]
        in_flight[tenant] += 1
        peak[tenant] = max(peak[tenant], in_flight[tenant])
        try:
            if tenant == TENANT_A:
                await release.wait()
            else:
                await asyncio.sleep(0)
            return httpx.Response(200, json=organisation_json())
        finally:
            in_flight[tenant] -= 1

    xero_api.get(ORGANISATION_URL).mock(side_effect=answer)
    calls = [
        asyncio.create_task(client.organisation(access_token=ACCESS, tenant_id=TENANT_A))
        for _ in range(12)
    ]
    for _ in range(100):
        await asyncio.sleep(0)
        if in_flight[TENANT_A] == 5:
            break
    assert in_flight[TENANT_A] == 5

    other = await asyncio.wait_for(
        client.organisation(access_token=ACCESS, tenant_id=TENANT_B), timeout=2
    )
    assert other.name == "Harbour Cafés Ltd"
    for _ in range(20):
        await asyncio.sleep(0)
    assert in_flight[TENANT_A] == 5
    assert not any(call.done() for call in calls)

    release.set()
    results = await asyncio.gather(*calls)
    assert len(results) == 12
    assert peak[TENANT_A] == 5
    assert peak[TENANT_B] == 1


# --- secrets --------------------------------------------------------------------------------


async def test_no_secret_in_errors_or_logs(
    client: XeroClient, xero_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[DomainError] = []

    async def expect_error(call: Awaitable[object]) -> None:
        with pytest.raises(DomainError) as caught:
            await call
        errors.append(caught.value)

    token_route = xero_api.post(TOKEN_URL)
    token_route.mock(side_effect=[httpx.ReadTimeout(f"slow {OLD_REFRESH}"), httpx.Response(503)])
    await expect_error(client.exchange_code(code=CODE))
    await expect_error(client.exchange_code(code=CODE))

    token_route.mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=token_json()),
            httpx.Response(400, json={"error": "invalid_grant", "error_description": CODE}),
            httpx.Response(401, json={"error": "invalid_client", "error_description": ACCESS}),
        ]
    )
    await client.refresh(refresh_token=OLD_REFRESH)
    await expect_error(client.refresh(refresh_token=OLD_REFRESH))
    await expect_error(client.refresh(refresh_token=OLD_REFRESH))

    token_route.mock(return_value=httpx.Response(500, text=f"oops {NEW_REFRESH}"))
    await expect_error(client.refresh(refresh_token=OLD_REFRESH))

    xero_api.post(REVOKE_URL).respond(400, json={"error": "unsupported_token_type"})
    await expect_error(client.revoke(refresh_token=OLD_REFRESH))

    org_route = xero_api.get(ORGANISATION_URL)
    org_route.mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(429, headers={"Retry-After": "99999", "X-Rate-Limit-Problem": "day"}),
            httpx.Response(403, text=ACCESS),
            httpx.Response(200, text=ACCESS),
        ]
    )
    await expect_error(client.organisation(access_token=ACCESS, tenant_id=TENANT_A))
    await expect_error(client.organisation(access_token=ACCESS, tenant_id=TENANT_A))
    await expect_error(client.organisation(access_token=ACCESS, tenant_id=TENANT_A))

    xero_api.get(CONNECTIONS_URL).mock(side_effect=httpx.ConnectError(f"refused {ACCESS}"))
    await expect_error(client.connections(access_token=ACCESS))

    assert len(errors) == 10
    for error in errors:
        assert_no_secrets(str(error))
        assert_no_secrets(repr(error))
    assert "retrying" in caplog.text
    assert "giving up" in caplog.text
    assert_no_secrets(caplog.text)


# --- transport ------------------------------------------------------------------------------


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == "/connect/token":
            return httpx.Response(200, json=token_json())
        return httpx.Response(200, json=organisation_json())

    async def aclose(self) -> None:
        self.closed = True


async def test_injected_transport_is_shared_and_closed_once(sleep: FakeSleep) -> None:
    transport = RecordingTransport()
    xero = XeroClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        revoke_url=REVOKE_URL,
        api_url=API_URL,
        transport=transport,
        sleep=sleep,
    )
    tokens = await xero.refresh(refresh_token=OLD_REFRESH)
    assert not transport.closed
    await xero.organisation(access_token=tokens.access_token, tenant_id=TENANT_A)
    assert transport.paths == ["/connect/token", "/api.xro/2.0/Organisation"]
    await xero.aclose()
    assert transport.closed
