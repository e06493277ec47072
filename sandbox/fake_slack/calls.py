"""The record of the bot's calls and a change counter, with ways to wait for either."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .models import ApiCall


class CallLog:
    """`calls` in order; every change to the workspace bumps `revision`."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.revision = 0
        self._waiters: set[asyncio.Event] = set()

    def record(self, method: str, args: dict[str, Any], error: str | None = None) -> ApiCall:
        call = ApiCall(method, dict(args), time.monotonic(), error)
        self.calls.append(call)
        self._changed()
        return call

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is what a test asks for
    ) -> list[ApiCall]:
        """The calls to `method` once at least `count` were recorded (whatever their outcome);
        AssertionError listing every call seen if that takes longer than `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls_to(method)) < count:
            if not await self._wait(deadline - time.monotonic()):
                seen = "\n  ".join(str(c) for c in self.calls) or "(none)"
                raise AssertionError(
                    f"expected {count} call(s) to {method} within {timeout}s, "
                    f"got {len(found)}; calls seen:\n  {seen}"
                )
        return found

    async def changed(self, since: int, *, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """The revision once it is past `since`, or the current one after `timeout`."""
        deadline = time.monotonic() + timeout
        while self.revision <= since and await self._wait(deadline - time.monotonic()):
            pass
        return self.revision

    async def _wait(self, remaining: float) -> bool:
        if remaining <= 0:
            return False
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(event)
        return True

    def _changed(self) -> None:
        self.revision += 1
        for event in self._waiters:
            event.set()
