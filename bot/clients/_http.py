"""The HTTP plumbing the Xero and Cloud POS clients share.

`Upstream` is one service's pooled httpx client, metered and closed with the client that owns
it, and the retry loop every call to that service goes through. A call attempt raises `Retry`
for a failure that waiting may cure; `backoff` and `retry_after` say how long to wait. What a
failure says to the customer stays with each client: the helpers here take it as a callable
that turns a detail (such as `transport_problem`'s) into the client's own error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self, TypeVar

import httpx

from bot.common.metrics import MeteredTransport
from bot.domain.errors import ExternalServiceError

__all__ = [
    "USER_AGENT",
    "Retry",
    "Sleep",
    "Upstream",
    "UpstreamClient",
    "backoff",
    "parse_json",
    "retry_after",
    "retrying_transport_errors",
    "transport_problem",
]

_T = TypeVar("_T")

Sleep = Callable[[float], Awaitable[None]]
"""How a client waits: `asyncio.sleep`, or a fake that tests can read."""

USER_AGENT = "xero-bot/0.1"

_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 8.0


class Retry(Exception):
    """A failure that waiting may cure; `failure` is raised once no attempt is left.

    `outcome` names it in the log (never with a secret); `delay` is the wait the service
    asked for, or None for the usual exponential backoff.
    """

    def __init__(self, outcome: str, failure: ExternalServiceError, delay: float | None) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.failure = failure
        self.delay = delay


def backoff(attempt: int) -> float:
    """The wait after failed attempt number `attempt` (from 1): 0.5 s, doubling, at most 8 s."""
    return min(_FIRST_BACKOFF * 2.0 ** (attempt - 1), _MAX_BACKOFF)


def retry_after(response: httpx.Response, *, default: float, maximum: float = math.inf) -> float:
    """The seconds a response's Retry-After asks for, at most `maximum`.

    Only the seconds form is expected; a missing, unreadable, negative or infinite value
    gives `default`.
    """
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return default
    if not math.isfinite(seconds) or seconds < 0:
        return default
    return min(seconds, maximum)


def transport_problem(exc: httpx.TransportError) -> str:
    """What went wrong on the way to the service, in words safe to show anyone."""
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    return "the bot could not reach it"


@contextmanager
def retrying_transport_errors(
    unavailable: Callable[[str], ExternalServiceError],
) -> Iterator[None]:
    """Turns a failure to reach the service into a `Retry` with `unavailable(problem)`."""
    try:
        yield
    except httpx.TransportError as exc:
        raise Retry(type(exc).__name__, unavailable(transport_problem(exc)), None) from exc


def parse_json(response: httpx.Response, unreadable: Callable[[str], Exception]) -> object:
    """The response's JSON body; a body that is not JSON raises `unreadable(detail)`."""
    try:
        return response.json()
    except ValueError:
        raise unreadable("the response is not JSON") from None


class Upstream:
    """One service's pooled httpx client, shared by all its calls, and their retry loop.

    `transport` (an emulator's, in tests and the sandbox) is metered as `metric`; retry
    warnings go to `logger`, naming the service, the request and the attempt.
    """

    def __init__(
        self,
        service: str,
        *,
        metric: str,
        base_url: str,
        timeout: float,
        max_attempts: int,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Sleep,
        logger: logging.Logger,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.service = service
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.transport: httpx.AsyncBaseTransport = MeteredTransport(metric, transport)
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=self.transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        self._sleep = sleep
        self._logger = logger

    async def aclose(self) -> None:
        await self.client.aclose()

    async def retrying(
        self,
        method: str,
        path: str,
        once: Callable[[], Awaitable[_T]],
        *,
        attempts: int | None = None,
        wait: Sleep | None = None,
    ) -> _T:
        """`once()` until it returns or raises anything but `Retry`, at most `attempts` times.

        Between attempts it waits the delay `Retry` asked for, else `backoff`, with `wait`
        (default: this upstream's sleep). Out of attempts, the last `Retry`'s failure is raised.
        """
        attempts = self.max_attempts if attempts is None else attempts
        attempt = 0
        while True:
            attempt += 1
            try:
                return await once()
            except Retry as retry:
                last = attempt >= attempts
                delay = backoff(attempt) if retry.delay is None else retry.delay
                self._logger.warning(
                    "%s %s %s: %s on attempt %d of %d; %s",
                    self.service,
                    method,
                    path,
                    retry.outcome,
                    attempt,
                    attempts,
                    "giving up" if last else f"retrying in {delay:.1f}s",
                )
                if last:
                    raise retry.failure from retry.__cause__
            await (wait or self._sleep)(delay)


class UpstreamClient:
    """Base of the service clients: `async with` one, or `aclose` it, to close its upstream."""

    _upstream: Upstream

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
        await self._upstream.aclose()
