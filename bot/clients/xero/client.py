"""Client for the Xero calls the bot needs: OAuth consent, token renewal and revocation,
the list of connected organisations, and each organisation's plan.

Xero's own Python SDK holds one token set globally and crashes on Organisation plan classes it
does not know yet, so this module talks to Xero directly: authlib does the OAuth 2.0 protocol
and plain JSON is read with open strings. Every call takes the token it needs as an argument
and no token state outlives a call, so two customers' tokens can never cross.

Tokens, authorisation codes and the client secret are secrets: they travel only in request
bodies and headers and never appear in an exception message, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from authlib.oauth2.client import OAuth2Client

from bot.common.metrics import MeteredTransport, refreshing
from bot.domain.errors import InvalidRequest, XeroConnectionGone

from ._failures import (
    CONNECT_AGAIN_LATER,
    TRY_LATER,
    Retry,
    backoff,
    describe,
    oauth_failure,
    parse_json,
    raise_token_endpoint_error,
    status_failure,
    unavailable,
    unreadable,
)
from ._oauth import AsyncOAuth2Client, OAuthError
from .models import (
    Organisation,
    TokenSet,
    XeroTenantConnection,
    connections_from,
    organisation_from,
    token_set_from,
)

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

USER_AGENT = "xero-bot/0.1"
_CONNECTIONS_PATH = "/connections"
_ORGANISATION_PATH = "/api.xro/2.0/Organisation"
# Xero accepts the client credentials in the body or as HTTP Basic; Basic keeps them out of forms.
_CLIENT_AUTH = "client_secret_basic"
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class _BorrowedTransport(httpx.AsyncBaseTransport):
    """Lends the client's transport to a short-lived authlib client without letting it close."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        return None


class XeroClient:
    """Shared by the whole bot; holds no token, so it is safe for every customer at once."""

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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if tenant_concurrency < 1:
            raise ValueError("tenant_concurrency must be at least 1")
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._scopes = tuple(scopes)
        self._authorize_url = authorize_url
        self._token_url = token_url
        self._revoke_url = revoke_url
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._tenant_concurrency = tenant_concurrency
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._transport = MeteredTransport("xero", transport)
        self._http = httpx.AsyncClient(
            base_url=api_url,
            timeout=timeout,
            transport=self._transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}

    def __repr__(self) -> str:
        return f"XeroClient(client_id={self._client_id!r}, api_url={str(self._http.base_url)!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def authorization_url(self, *, state: str, code_verifier: str | None = None) -> str:
        """Where to send the customer to consent; `state` ties the callback to their link.

        With a `code_verifier` (see `new_code_verifier`) the request carries its S256 PKCE
        challenge, so a code intercepted on its way back is useless without the verifier.
        """
        protocol = OAuth2Client(
            None,
            client_id=self._client_id,
            redirect_uri=self._redirect_uri,
            scope=self._scopes,
            code_challenge_method="S256",
        )
        url, _ = protocol.create_authorization_url(
            self._authorize_url, state=state, code_verifier=code_verifier
        )
        return url

    async def exchange_code(self, *, code: str, code_verifier: str | None = None) -> TokenSet:
        """Turn the callback's authorisation code into the customer's first token set.

        Tried once only: a code is single use, so repeating a request whose answer was lost
        would be refused and look like a revoked grant. `code_verifier` is the PKCE verifier
        the authorisation URL was made with.
        """
        if not code:
            raise InvalidRequest(
                "Xero's answer carried no authorisation code; the customer needs to connect to "
                "Xero again."
            )

        async def call(oauth: AsyncOAuth2Client) -> Mapping[str, object]:
            extra = {"code_verifier": code_verifier} if code_verifier else {}
            return await oauth.fetch_token(
                self._token_url, grant_type="authorization_code", code=code, **extra
            )

        purpose = "connecting to Xero"
        token = await self._token_call(purpose, call, attempts=1, advice=CONNECT_AGAIN_LATER)
        return token_set_from(token, default_scopes=self._scopes, purpose=purpose)

    async def refresh(self, *, refresh_token: str) -> TokenSet:
        """Renew an expired access token; Xero rotates the refresh token, so store the new one.

        A lost answer is retried with the same refresh token, which Xero keeps accepting for
        30 minutes after it was rotated.
        """
        if not refresh_token:
            raise InvalidRequest("There is no Xero refresh token to renew; connect to Xero again.")

        async def call(oauth: AsyncOAuth2Client) -> Mapping[str, object]:
            return await oauth.refresh_token(self._token_url, refresh_token=refresh_token)

        purpose = "renewing the Xero authorisation"
        with refreshing():
            token = await self._token_call(
                purpose, call, attempts=self._max_attempts, advice=TRY_LATER
            )
        return token_set_from(token, default_scopes=self._scopes, purpose=purpose)

    async def revoke(self, *, refresh_token: str) -> None:
        """Disconnect a Xero user from the app: revokes the grant and all its connections."""
        if not refresh_token:
            raise InvalidRequest("There is no Xero refresh token to revoke.")

        async def call(oauth: AsyncOAuth2Client) -> None:
            response = await oauth.revoke_token(self._revoke_url, token=refresh_token)
            if not response.is_success:
                raise_token_endpoint_error(response)

        await self._token_call(
            "disconnecting from Xero", call, attempts=self._max_attempts, advice=TRY_LATER
        )

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
        data = parse_json(response, purpose)
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
        if not _HEADER_SAFE.fullmatch(tenant_id):
            raise InvalidRequest("This is not a Xero organisation (tenant) id.")
        purpose = "reading the Xero organisation's details"
        response = await self._api(
            "GET",
            _ORGANISATION_PATH,
            purpose=purpose,
            access_token=access_token,
            tenant_id=tenant_id,
        )
        data = parse_json(response, purpose)
        return organisation_from(data, purpose)

    def _oauth_client(self) -> AsyncOAuth2Client:
        """A fresh authlib client per call, so no token state is ever shared between users."""
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            token_endpoint_auth_method=_CLIENT_AUTH,
            revocation_endpoint_auth_method=_CLIENT_AUTH,
            redirect_uri=self._redirect_uri,
            timeout=self._timeout,
            transport=_BorrowedTransport(self._transport),
            headers={"User-Agent": USER_AGENT},
        )

    async def _token_call(
        self,
        purpose: str,
        call: Callable[[AsyncOAuth2Client], Awaitable[_T]],
        *,
        attempts: int,
        advice: str,
    ) -> _T:
        async def once() -> _T:
            try:
                async with self._oauth_client() as oauth:
                    return await call(oauth)
            except OAuthError as exc:
                raise oauth_failure(exc, purpose) from None
            except httpx.HTTPStatusError as exc:
                raise status_failure(
                    exc.response, purpose, advice, max_retry_after=self._max_retry_after
                ) from exc
            except httpx.TransportError as exc:
                raise Retry(
                    type(exc).__name__, unavailable(purpose, describe(exc), advice), None
                ) from exc
            except httpx.RequestError as exc:
                raise unreadable(purpose, "the response could not be read") from exc
            except (ValueError, TypeError, KeyError, ArithmeticError):
                # authlib raises these for a body that is not a JSON object or has odd fields.
                raise unreadable(
                    purpose, "the token response is not a usable JSON object"
                ) from None

        return await self._retrying("POST", urlsplit(self._token_url).path, once, attempts)

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
        headers = {"Authorization": f"Bearer {access_token}"}
        if tenant_id is not None:
            headers["xero-tenant-id"] = tenant_id

        async def once() -> httpx.Response:
            async with self._tenant_slot(tenant_id):
                try:
                    response = await self._http.request(
                        method, path, params=params, headers=headers
                    )
                except httpx.TransportError as exc:
                    raise Retry(
                        type(exc).__name__, unavailable(purpose, describe(exc), TRY_LATER), None
                    ) from exc
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

        return await self._retrying(method, path, once, self._max_attempts)

    def _tenant_slot(self, tenant_id: str | None) -> contextlib.AbstractAsyncContextManager[Any]:
        """Xero allows 5 concurrent calls per organisation; callers beyond that queue here."""
        if tenant_id is None:
            return contextlib.nullcontext()
        slot = self._tenant_slots.get(tenant_id)
        if slot is None:
            slot = self._tenant_slots[tenant_id] = asyncio.Semaphore(self._tenant_concurrency)
        return slot

    async def _retrying(
        self, method: str, path: str, once: Callable[[], Awaitable[_T]], attempts: int
    ) -> _T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await once()
            except Retry as retry:
                if attempt >= attempts:
                    logger.warning(
                        "Xero %s %s: %s on attempt %d of %d; giving up",
                        method,
                        path,
                        retry.outcome,
                        attempt,
                        attempts,
                    )
                    raise retry.failure from retry.__cause__
                delay = retry.delay if retry.delay is not None else backoff(attempt)
                logger.warning(
                    "Xero %s %s: %s on attempt %d of %d; retrying in %.1fs",
                    method,
                    path,
                    retry.outcome,
                    attempt,
                    attempts,
                    delay,
                )
            await self._sleep(delay)
