"""Client for the Xero calls the bot needs: OAuth consent, token renewal and revocation,
the list of connected organisations, each organisation's plan, and (in `accounting`) the
accounting reads a store's posting set-up needs.

Xero's own Python SDK holds one token set globally and crashes on Organisation plan classes it
does not know yet, so this package talks to Xero directly: authlib does the OAuth 2.0 protocol
(in `_tokens`) and plain JSON is read with open strings (in `models`). Every call takes the
token it needs as an argument and no token state outlives a call, so two customers' tokens can
never cross.

Tokens, authorisation codes and the client secret are secrets: they travel only in request
bodies and headers and never appear in an exception message, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from bot.clients._http import (
    Sleep,
    Upstream,
    UpstreamClient,
    parse_json,
    retrying_transport_errors,
)
from bot.domain.errors import InvalidRequest, XeroConnectionGone
from bot.domain.ports import Organisation, TokenSet, XeroTenantConnection

from ._failures import TRY_LATER, status_failure, unavailable, unreadable
from ._tokens import XeroTokens
from .accounting import AccountingReads
from .models import connections_from, organisation_from

if TYPE_CHECKING:
    from bot.domain.ports import XeroApi

logger = logging.getLogger(__name__)

_CONNECTIONS_PATH = "/connections"
_ORGANISATION_PATH = "/api.xro/2.0/Organisation"
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class XeroClient(AccountingReads, UpstreamClient):
    """Shared by the whole bot; holds no token, so it is safe for every customer at once.

    The posting set-up's reads (accounts, tax rates, tracking, contacts) are in `accounting`.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: Sequence[str],
        authorize_url: str,
        token_url: str,
        revoke_url: str,
        api_url: str,
        timeout: float = 15.0,
        max_attempts: int = 4,
        tenant_concurrency: int = 5,
        max_retry_after: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._upstream = Upstream(
            "Xero",
            metric="xero",
            base_url=api_url,
            timeout=timeout,
            max_attempts=max_attempts,
            transport=transport,
            sleep=sleep,
            logger=logger,
        )
        if tenant_concurrency < 1:
            raise ValueError("tenant_concurrency must be at least 1")
        self._client_id = client_id
        self._tokens = XeroTokens(
            self._upstream,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            scopes=tuple(scopes),
            authorize_url=authorize_url,
            token_url=token_url,
            revoke_url=revoke_url,
            max_retry_after=max_retry_after,
        )
        self._tenant_concurrency = tenant_concurrency
        self._max_retry_after = max_retry_after
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}

    def __repr__(self) -> str:
        base_url = str(self._upstream.client.base_url)
        return f"XeroClient(client_id={self._client_id!r}, api_url={base_url!r})"

    def authorization_url(self, *, state: str, code_verifier: str | None = None) -> str:
        """Where to send the customer to consent, with the PKCE challenge of `code_verifier`."""
        return self._tokens.authorization_url(state=state, code_verifier=code_verifier)

    async def exchange_code(self, *, code: str, code_verifier: str | None = None) -> TokenSet:
        """The customer's first token set, for the callback's single-use code; tried once."""
        return await self._tokens.exchange_code(code=code, code_verifier=code_verifier)

    async def refresh(self, *, refresh_token: str) -> TokenSet:
        """A renewed token set; Xero rotates the refresh token, so store the new one."""
        return await self._tokens.refresh(refresh_token=refresh_token)

    async def revoke(self, *, refresh_token: str) -> None:
        """Disconnect a Xero user from the app: revokes the grant and all its connections."""
        await self._tokens.revoke(refresh_token=refresh_token)

    async def connections(
        self, *, access_token: str, auth_event_id: str | None = None
    ) -> list[XeroTenantConnection]:
        """The organisations the token's user has connected; with `auth_event_id`, only those
        authorised in that consent, which is how a callback learns which ones were just added.
        """
        purpose = "listing the Xero connections"
        params = {"authEventId": auth_event_id} if auth_event_id else None
        response = await self._api(
            "GET", _CONNECTIONS_PATH, purpose=purpose, access_token=access_token, params=params
        )
        data = parse_json(response, partial(unreadable, purpose))
        return connections_from(data, purpose)

    async def delete_connection(self, *, access_token: str, connection_id: str) -> bool:
        """Disconnect one organisation but keep the grant; False if it was already gone."""
        if not connection_id:
            raise InvalidRequest("No Xero connection id was given.")
        response = await self._api(
            "DELETE",
            f"{_CONNECTIONS_PATH}/{quote(connection_id, safe='')}",
            purpose="removing a Xero connection",
            access_token=access_token,
            accept=frozenset({httpx.codes.NOT_FOUND}),
        )
        return response.status_code != httpx.codes.NOT_FOUND

    async def organisation(self, *, access_token: str, tenant_id: str) -> Organisation:
        """The organisation's plan, edition and status, which decide whether it may be linked.

        `plan_class` is passed through as Xero spells it, new plans included.
        """
        purpose = "reading the Xero organisation's details"
        response = await self._api(
            "GET",
            _ORGANISATION_PATH,
            purpose=purpose,
            access_token=access_token,
            tenant_id=tenant_id,
        )
        data = parse_json(response, partial(unreadable, purpose))
        return organisation_from(data, purpose)

    async def _api(
        self,
        method: str,
        path: str,
        *,
        purpose: str,
        access_token: str,
        tenant_id: str | None = None,
        params: Mapping[str, str] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        if not _HEADER_SAFE.fullmatch(access_token):
            raise InvalidRequest(
                "This is not a usable Xero access token (it is empty or contains spaces)."
            )
        if tenant_id is not None and not _HEADER_SAFE.fullmatch(tenant_id):
            raise InvalidRequest("This is not a Xero organisation (tenant) id.")
        headers = {"Authorization": f"Bearer {access_token}"}
        if tenant_id is not None:
            headers["xero-tenant-id"] = tenant_id

        async def once() -> httpx.Response:
            async with self._tenant_slot(tenant_id):
                try:
                    with retrying_transport_errors(
                        lambda problem: unavailable(purpose, problem, TRY_LATER)
                    ):
                        response = await self._upstream.client.request(
                            method, path, params=params, headers=headers
                        )
                except httpx.RequestError as exc:
                    raise unreadable(purpose, "the response could not be read") from exc
            status = response.status_code
            if response.is_success or status in accept:
                return response
            if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
                raise XeroConnectionGone(
                    f"Xero refused access (HTTP {status}) while {purpose}: the organisation was "
                    "disconnected on Xero's side or the user's access was withdrawn. The "
                    "customer needs to connect to Xero again."
                )
            raise status_failure(
                response, purpose, TRY_LATER, max_retry_after=self._max_retry_after
            )

        return await self._upstream.retrying(method, path, once)

    def _tenant_slot(self, tenant_id: str | None) -> contextlib.AbstractAsyncContextManager[Any]:
        """Xero allows 5 concurrent calls per organisation; callers beyond that queue here."""
        if tenant_id is None:
            return contextlib.nullcontext()
        slot = self._tenant_slots.get(tenant_id)
        if slot is None:
            slot = self._tenant_slots[tenant_id] = asyncio.Semaphore(self._tenant_concurrency)
        return slot


if TYPE_CHECKING:

    def _implements_the_port(client: XeroClient) -> XeroApi:
        return client
