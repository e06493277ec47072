"""What tests observe and steer about the calls the emulator gets: counts, held answers, and
the in-process transport that loses the answers `lose_next_answers` picked.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import httpx

from .faults import Endpoint, _check_endpoint

LOST_HEADER = "x-emulator-answer-lost"
"""Marks an answer the transport is to lose; a client served over HTTP just ignores it."""


class Hold:
    """Calls of one endpoint wait here, each before it is handled, until `release()`.

    For in-process use: the events belong to the event loop the test and the app share.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._arrived = asyncio.Event()
        self._released = asyncio.Event()

    async def arrived(self) -> None:
        """Return once a call is waiting at the hold (wrap it in a timeout)."""
        await self._arrived.wait()

    def release(self) -> None:
        """Let the waiting calls, and every later one, through."""
        self._released.set()

    async def pass_through(self) -> None:
        self._arrived.set()
        await self._released.wait()


class Traffic:
    def __init__(self) -> None:
        self._traffic_lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._holds: dict[str, Hold] = {}

    def call_count(self, endpoint: Endpoint) -> int:
        """How many requests reached `endpoint`, faulted or not."""
        _check_endpoint(endpoint)
        with self._traffic_lock:
            return self._calls[endpoint]

    def hold(self, endpoint: Endpoint) -> Hold:
        """Make calls of `endpoint` wait until the returned hold is released."""
        _check_endpoint(endpoint)
        hold = Hold(endpoint)
        with self._traffic_lock:
            self._holds[endpoint] = hold
        return hold

    async def arrive(self, endpoint: Endpoint) -> None:
        """Count a call of `endpoint` and wait at its hold, if there is one."""
        with self._traffic_lock:
            self._calls[endpoint] += 1
            hold = self._holds.get(endpoint)
        if hold is not None:
            await hold.pass_through()


class EmulatorTransport(httpx.ASGITransport):
    """The emulator's app as an httpx transport, for the bot's real clients in tests.

    With `timeouts`, a call the app takes longer to answer than the client's read timeout
    (one held, say) raises `httpx.ReadTimeout` as a real connection would; `ASGITransport`
    itself waits for ever.
    """

    def __init__(self, *, timeouts: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._timeouts = timeouts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        read = request.extensions.get("timeout", {}).get("read") if self._timeouts else None
        if read is None:
            response = await super().handle_async_request(request)
        else:
            try:
                response = await asyncio.wait_for(super().handle_async_request(request), read)
            except TimeoutError:
                raise httpx.ReadTimeout(
                    "the emulator did not answer within the client's timeout", request=request
                ) from None
        if LOST_HEADER in response.headers:
            await response.aclose()
            raise httpx.ReadTimeout("the emulator lost this answer on purpose", request=request)
        return response
