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
import base64
import contextlib
import json
import logging
import math
import re
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.oauth2.client import OAuth2Client

from bot.errors import (
    ExternalServiceError,
    InvalidRequest,
    XeroConnectionGone,
    XeroGrantRevoked,
)
from bot.settings import Settings

# authlib 1.9 prefers the httpx2 fork and warns when it falls back to httpx, which this project
# uses on purpose (respx mocks it); tests assert the fallback still yields an httpx client.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

USER_AGENT = "xero-bot/0.1"

_OAuthError = AsyncOAuth2Client.oauth_error_class

_CONNECTIONS_PATH = "/connections"
_ORGANISATION_PATH = "/api.xro/2.0/Organisation"

# Xero accepts the client credentials in the body or as HTTP Basic; Basic keeps them out of forms.
_CLIENT_AUTH = "client_secret_basic"

_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 8.0
_DEFAULT_RETRY_AFTER = 5.0

_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_RATE_LIMIT_NAMES = {
    "day": "daily",
    "minute": "per-minute",
    "concurrent": "concurrent-request",
    "appminute": "app-wide per-minute",
}

_GRANT_REVOKED = (
    "Xero no longer accepts this connection's authorisation; the customer needs to connect to "
    "Xero again."
)
_TRY_LATER = "try again in a few minutes."
_CONNECT_AGAIN_LATER = "the customer needs to connect to Xero again in a few minutes."
_ASK_MAINTAINERS = "Ask the bot's maintainers to check the Xero integration."


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]
    xero_user_id: str
    auth_event_id: str | None
    user_name: str
    user_email: str


@dataclass(frozen=True)
class XeroTenantConnection:
    id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str
    auth_event_id: str


@dataclass(frozen=True)
class Organisation:
    name: str
    plan_class: str
    edition: str
    is_demo_company: bool
    status: str


class _Retry(Exception):
    """A failure that waiting may cure; `failure` is raised once no attempt is left.

    `delay` is the wait Xero asked for, or None for the usual exponential backoff.
    """

    def __init__(self, outcome: str, failure: ExternalServiceError, delay: float | None) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.failure = failure
        self.delay = delay


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
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._http = httpx.AsyncClient(
            base_url=api_url,
            timeout=timeout,
            transport=self._transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> XeroClient:
        """The client the running bot uses; `kwargs` tune timeouts, retries and transport."""
        return cls(
            client_id=settings.xero_client_id,
            client_secret=settings.xero_client_secret,
            redirect_uri=settings.xero_redirect_uri,
            scopes=settings.xero_scopes,
            authorize_url=settings.xero_authorize_url,
            token_url=settings.xero_token_url,
            revoke_url=settings.xero_revoke_url,
            api_url=settings.xero_api_url,
            **kwargs,
        )

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

    def authorization_url(self, *, state: str) -> str:
        """Where to send the customer to consent; `state` ties the callback to their link."""
        protocol = OAuth2Client(
            None, client_id=self._client_id, redirect_uri=self._redirect_uri, scope=self._scopes
        )
        url, _ = protocol.create_authorization_url(self._authorize_url, state=state)
        return url

    async def exchange_code(self, *, code: str) -> TokenSet:
        """Turn the callback's authorisation code into the customer's first token set.

        Tried once only: a code is single use, so repeating a request whose answer was lost
        would be refused and look like a revoked grant.
        """
        if not code:
            raise InvalidRequest(
                "Xero's answer carried no authorisation code; the customer needs to connect to "
                "Xero again."
            )

        async def call(oauth: AsyncOAuth2Client) -> Mapping[str, object]:
            return await oauth.fetch_token(
                self._token_url, grant_type="authorization_code", code=code
            )

        purpose = "connecting to Xero"
        token = await self._token_call(purpose, call, attempts=1, advice=_CONNECT_AGAIN_LATER)
        return self._token_set(token, purpose)

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
        token = await self._token_call(
            purpose, call, attempts=self._max_attempts, advice=_TRY_LATER
        )
        return self._token_set(token, purpose)

    async def revoke(self, *, refresh_token: str) -> None:
        """Disconnect a Xero user from the app: revokes the grant and all its connections."""
        if not refresh_token:
            raise InvalidRequest("There is no Xero refresh token to revoke.")

        async def call(oauth: AsyncOAuth2Client) -> None:
            response = await oauth.revoke_token(self._revoke_url, token=refresh_token)
            if not response.is_success:
                _raise_token_endpoint_error(response)

        await self._token_call(
            "disconnecting from Xero", call, attempts=self._max_attempts, advice=_TRY_LATER
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
        data = _parse_json(response, purpose)
        if not isinstance(data, list):
            raise _unreadable(purpose, "expected a list")
        connections = []
        for position, entry in enumerate(data, start=1):
            if not isinstance(entry, dict):
                raise _unreadable(purpose, f"entry {position} is not an object")
            connection_id, tenant_id = entry.get("id"), entry.get("tenantId")
            if not isinstance(connection_id, str) or not connection_id:
                raise _unreadable(purpose, f"entry {position} has no text 'id'")
            if not isinstance(tenant_id, str) or not tenant_id:
                raise _unreadable(purpose, f"entry {position} has no text 'tenantId'")
            connections.append(
                XeroTenantConnection(
                    id=connection_id,
                    tenant_id=tenant_id,
                    tenant_name=_optional_text(entry, "tenantName", purpose),
                    tenant_type=_optional_text(entry, "tenantType", purpose),
                    auth_event_id=_optional_text(entry, "authEventId", purpose),
                )
            )
        return connections

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
        data = _parse_json(response, purpose)
        organisations = data.get("Organisations") if isinstance(data, dict) else None
        if not isinstance(organisations, list) or not organisations:
            raise _unreadable(purpose, "no 'Organisations' list")
        entry = organisations[0]
        if not isinstance(entry, dict):
            raise _unreadable(purpose, "the organisation is not an object")
        name = entry.get("Name")
        if not isinstance(name, str):
            raise _unreadable(purpose, "the organisation has no text 'Name'")
        is_demo = entry.get("IsDemoCompany", False)
        if not isinstance(is_demo, bool):
            raise _unreadable(purpose, "'IsDemoCompany' is not true/false")
        return Organisation(
            name=name,
            plan_class=_optional_text(entry, "Class", purpose),
            edition=_optional_text(entry, "Edition", purpose),
            is_demo_company=is_demo,
            status=_optional_text(entry, "OrganisationStatus", purpose),
        )

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
            except _OAuthError as exc:
                raise _oauth_failure(exc, purpose) from None
            except httpx.HTTPStatusError as exc:
                raise self._status_failure(exc.response, purpose, advice) from exc
            except httpx.TransportError as exc:
                raise _Retry(
                    type(exc).__name__, _unavailable(purpose, _describe(exc), advice), None
                ) from exc
            except httpx.RequestError as exc:
                raise _unreadable(purpose, "the response could not be read") from exc
            except (ValueError, TypeError, KeyError, ArithmeticError):
                # authlib raises these for a body that is not a JSON object or has odd fields.
                raise _unreadable(
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
                    raise _Retry(
                        type(exc).__name__, _unavailable(purpose, _describe(exc), _TRY_LATER), None
                    ) from exc
                except httpx.RequestError as exc:
                    raise _unreadable(purpose, "the response could not be read") from exc
            status = response.status_code
            if response.is_success or status in accept:
                return response
            if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
                raise XeroConnectionGone(
                    f"Xero refused access (HTTP {status}) while {purpose}: the organisation was "
                    "disconnected on Xero's side or the user's access was withdrawn. The "
                    "customer needs to connect to Xero again."
                )
            raise self._status_failure(response, purpose, _TRY_LATER)

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
            except _Retry as retry:
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
                delay = retry.delay if retry.delay is not None else _backoff(attempt)
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

    def _status_failure(self, response: httpx.Response, purpose: str, advice: str) -> Exception:
        """The error for an HTTP failure status other than 401/403: a `_Retry` if waiting helps."""
        status = response.status_code
        outcome = f"HTTP {status}"
        if status == httpx.codes.TOO_MANY_REQUESTS:
            delay = _retry_after(response)
            limit = _RATE_LIMIT_NAMES.get(response.headers.get("X-Rate-Limit-Problem", "").lower())
            failure = ExternalServiceError(
                f"Xero's {limit + ' ' if limit else ''}request limit has been reached while "
                f"{purpose}; try again in {_describe_wait(delay)}.",
                retryable=True,
            )
            if delay > self._max_retry_after:
                return failure
            return _Retry(f"{outcome} ({limit or 'rate limit'})", failure, delay)
        if status >= httpx.codes.INTERNAL_SERVER_ERROR:
            failure = _unavailable(purpose, f"it answered HTTP {status}", advice)
            return _Retry(outcome, failure, None)
        return ExternalServiceError(
            f"Xero answered HTTP {status} while {purpose}; trying again will not help. "
            f"{_ASK_MAINTAINERS}",
            retryable=False,
        )

    def _token_set(self, token: Mapping[str, object], purpose: str) -> TokenSet:
        access_token, refresh_token = token.get("access_token"), token.get("refresh_token")
        if not isinstance(access_token, str) or not access_token:
            raise _unreadable(purpose, "the token response has no access token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise _unreadable(
                purpose, "the token response has no refresh token; is offline_access requested?"
            )
        expires_at = _expiry(token.get("expires_at"))
        if expires_at is None:
            raise _unreadable(purpose, "the token response says nothing valid about expiry")
        scope = token.get("scope")
        if scope is None:
            scopes = self._scopes
        elif isinstance(scope, str):
            scopes = tuple(scope.split())
        elif isinstance(scope, list) and all(isinstance(item, str) for item in scope):
            scopes = tuple(scope)
        else:
            raise _unreadable(purpose, "the token response's scope is not text")
        access_claims = _jwt_claims(access_token)
        id_claims = _jwt_claims(token.get("id_token"))
        xero_user_id = _first_text(
            access_claims.get("xero_userid"),
            id_claims.get("xero_userid"),
            id_claims.get("sub"),
            access_claims.get("sub"),
        )
        if not xero_user_id:
            raise _unreadable(purpose, "the tokens do not say which Xero user they belong to")
        given_and_family = " ".join(
            part
            for part in (
                _first_text(id_claims.get("given_name")),
                _first_text(id_claims.get("family_name")),
            )
            if part
        )
        return TokenSet(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            scopes=scopes,
            xero_user_id=xero_user_id,
            auth_event_id=_first_text(access_claims.get("authentication_event_id")) or None,
            user_name=_first_text(id_claims.get("name")) or given_and_family,
            user_email=_first_text(id_claims.get("email")),
        )


def _raise_token_endpoint_error(response: httpx.Response) -> None:
    """Raise for a failed answer the way authlib does for token requests."""
    if response.status_code < httpx.codes.INTERNAL_SERVER_ERROR:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            raise _OAuthError(error=body["error"])
    response.raise_for_status()


def _oauth_failure(exc: Exception, purpose: str) -> Exception:
    code = getattr(exc, "error", None)
    if code == "invalid_grant":
        return XeroGrantRevoked(_GRANT_REVOKED)
    if not isinstance(code, str) or not _ERROR_CODE.fullmatch(code):
        code = "unknown"
    return ExternalServiceError(
        f"Xero refused the bot's request while {purpose} (error '{code}'). Ask the bot's "
        "maintainers to check the Xero app's client id, secret and redirect URI.",
        retryable=False,
    )


def _jwt_claims(token: object) -> dict[str, object]:
    """The payload of a JWT, unverified: it comes straight from Xero's token endpoint over TLS.

    Anything that is not a JWT gives no claims rather than an error.
    """
    if not isinstance(token, str):
        return {}
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _first_text(*values: object) -> str:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _optional_text(entry: Mapping[str, object], key: str, purpose: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _unreadable(purpose, f"'{key}' is not text")
    return value


def _expiry(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _backoff(attempt: int) -> float:
    return min(_FIRST_BACKOFF * 2 ** (attempt - 1), _MAX_BACKOFF)


def _retry_after(response: httpx.Response) -> float:
    """Xero sends whole seconds; anything else gets a short default wait."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return _DEFAULT_RETRY_AFTER
    if not math.isfinite(seconds) or seconds < 0:
        return _DEFAULT_RETRY_AFTER
    return seconds


def _describe_wait(seconds: float) -> str:
    if seconds < 90:
        count, unit = max(1, math.ceil(seconds)), "second"
    elif seconds < 90 * 60:
        count, unit = math.ceil(seconds / 60), "minute"
    else:
        count, unit = math.ceil(seconds / 3600), "hour"
    return f"about {count} {unit}{'' if count == 1 else 's'}"


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    return "the bot could not reach it"


def _parse_json(response: httpx.Response, purpose: str) -> object:
    try:
        return response.json()
    except ValueError:
        raise _unreadable(purpose, "the response is not JSON") from None


def _unavailable(purpose: str, detail: str, advice: str) -> ExternalServiceError:
    return ExternalServiceError(
        f"Xero is not answering right now ({detail} while {purpose}); {advice}",
        retryable=True,
    )


def _unreadable(purpose: str, detail: str) -> ExternalServiceError:
    return ExternalServiceError(
        f"Xero sent an answer the bot could not read while {purpose} ({detail}). "
        f"{_ASK_MAINTAINERS}",
        retryable=False,
    )
