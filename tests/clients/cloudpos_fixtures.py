"""What the Cloud POS client tests share: keys, the base URL and a clock that moves only
when the client sleeps."""

from __future__ import annotations

import asyncio

BASE_URL = "https://cloudpos.test"
KEY = "ck_live_SECRET-1234567890abcdef"
OTHER_KEY = "ck_live_OTHER-0987654321fedcba"


class FakeTime:
    """A clock that only moves when the client sleeps, so waits can be asserted exactly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
