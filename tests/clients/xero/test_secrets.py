"""No token, code or client secret ever reaches an error message, a repr or a log line."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.domain.errors import DomainError
from tests.clients.xero.xero_fixtures import (
    ACCESS,
    CODE,
    CONNECTIONS_URL,
    NEW_REFRESH,
    OLD_REFRESH,
    ORGANISATION_URL,
    REVOKE_URL,
    TENANT_A,
    TOKEN_URL,
    assert_no_secrets,
    token_json,
)

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
