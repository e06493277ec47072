"""Xero's OAuth 2.0 endpoints: the consent URL, code exchange, token renewal and revocation.

authlib does the protocol. Each call gets a fresh authlib client over the Xero client's own
transport, so calls are metered alike and no token state is ever shared between users.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from authlib.oauth2.client import OAuth2Client

from bot.clients._http import USER_AGENT, Upstream, retrying_transport_errors
from bot.common.metrics import refreshing
from bot.domain.errors import InvalidRequest
from bot.domain.ports import TokenSet

from ._failures import (
    CONNECT_AGAIN_LATER,
    TRY_LATER,
    oauth_failure,
    raise_token_endpoint_error,
    status_failure,
    unavailable,
    unreadable,
)
from ._oauth import AsyncOAuth2Client, OAuthError
from .models import token_set_from

_T = TypeVar("_T")

# Xero accepts the client credentials in the body or as HTTP Basic; Basic keeps them out of forms.
_CLIENT_AUTH = "client_secret_basic"


class _BorrowedTransport(httpx.AsyncBaseTransport):
    """Lends the client's transport to a short-lived authlib client without letting it close."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        return None


class XeroTokens:
    """The token calls of `XeroClient`, over its upstream; holds no token either."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        authorize_url: str,
        token_url: str,
        revoke_url: str,
        max_retry_after: float,
    ) -> None:
        self._upstream = upstream
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._scopes = scopes
        self._authorize_url = authorize_url
        self._token_url = token_url
        self._revoke_url = revoke_url
        self._max_retry_after = max_retry_after

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
        url: str
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
            token: Mapping[str, object] = await oauth.fetch_token(
                self._token_url, grant_type="authorization_code", code=code, **extra
            )
            return token

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
            token: Mapping[str, object] = await oauth.refresh_token(
                self._token_url, refresh_token=refresh_token
            )
            return token

        purpose = "renewing the Xero authorisation"
        with refreshing():
            token = await self._token_call(
                purpose, call, attempts=self._upstream.max_attempts, advice=TRY_LATER
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
            "disconnecting from Xero", call, attempts=self._upstream.max_attempts, advice=TRY_LATER
        )

    def _oauth_client(self) -> AsyncOAuth2Client:
        """A fresh authlib client per call, so no token state is ever shared between users."""
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            token_endpoint_auth_method=_CLIENT_AUTH,
            revocation_endpoint_auth_method=_CLIENT_AUTH,
            redirect_uri=self._redirect_uri,
            timeout=self._upstream.timeout,
            transport=_BorrowedTransport(self._upstream.transport),
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
                with retrying_transport_errors(
                    lambda problem: unavailable(purpose, problem, advice)
                ):
                    async with self._oauth_client() as oauth:
                        return await call(oauth)
            except OAuthError as exc:
                raise oauth_failure(exc, purpose) from None
            except httpx.HTTPStatusError as exc:
                raise status_failure(
                    exc.response, purpose, advice, max_retry_after=self._max_retry_after
                ) from exc
            except httpx.RequestError as exc:
                raise unreadable(purpose, "the response could not be read") from exc
            except (ValueError, TypeError, KeyError, ArithmeticError):
                # authlib raises these for a body that is not a JSON object or has odd fields.
                raise unreadable(
                    purpose, "the token response is not a usable JSON object"
                ) from None

        path = urlsplit(self._token_url).path
        return await self._upstream.retrying("POST", path, once, attempts=attempts)
