"""An in-memory Cloud POS API for the sandbox: the licence and store endpoints the bot uses.

It follows the contract in the README ("The Cloud POS contract"): the API key as the raw
`Authorization` header, 401 for an unknown key, 429 past one request a second per key.

Tests mount `app` into the bot's real `CloudPosClient` with `httpx.ASGITransport`; they
change an account's stores in place and set `delay` for a slow Cloud POS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class CloudPosStore:
    code: str
    """Cloud POS's `storeClientCode`."""
    name: str
    active: bool = True


@dataclass
class CloudPosAccount:
    api_key: str
    group: str
    licence: str
    stores: list[CloudPosStore] = field(default_factory=list)
    """What `/api/stores` answers, in order; change it to rename, close or add stores."""


class CloudPosEmulator:
    """Cloud POS for one bot.

    `min_interval` is the per-key rate limit (0 turns it off, for tests whose client does
    not pace itself); `delay` is how long every API answer takes, awaited with `sleep`.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 1.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.accounts: dict[str, CloudPosAccount] = {}
        self.delay = 0.0
        self._clock = clock
        self._min_interval = min_interval
        self._sleep = sleep
        self._last_request: dict[str, float] = {}
        self.app = Starlette(
            routes=[
                Route("/", self._home, name="home"),
                Route("/api/licence", self._licence),
                Route("/api/stores", self._stores),
            ]
        )

    def add_account(
        self,
        api_key: str,
        *,
        group: str,
        licence: str = "ProPlus",
        stores: int | Sequence[tuple[str, str]] = 3,
    ) -> CloudPosAccount:
        """An account with `stores` as (code, name) pairs, or that many numbered ones:
        S001 "{group} store 1", S002 "{group} store 2", …
        """
        if isinstance(stores, int):
            stores = [(f"S{n:03}", f"{group} store {n}") for n in range(1, stores + 1)]
        account = CloudPosAccount(
            api_key, group, licence, [CloudPosStore(code, name) for code, name in stores]
        )
        self.accounts[api_key] = account
        return account

    async def _home(self, request: Request) -> Response:
        return TEMPLATES.TemplateResponse(
            request, "home.html", {"accounts": list(self.accounts.values())}
        )

    async def _licence(self, request: Request) -> Response:
        account, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        assert account is not None
        return JSONResponse({"group": account.group, "licence": account.licence})

    async def _stores(self, request: Request) -> Response:
        account, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        assert account is not None
        return JSONResponse(
            [
                {"storeClientCode": store.code, "name": store.name, "active": store.active}
                for store in account.stores
            ]
        )

    async def _authorised(self, request: Request) -> tuple[CloudPosAccount | None, Response | None]:
        if self.delay:
            await self._sleep(self.delay)
        key = request.headers.get("authorization", "")
        account = self.accounts.get(key)
        if account is None:
            return None, JSONResponse({"message": "API key not valid or not active"}, 401)
        now = self._clock()
        last = self._last_request.get(key)
        if last is not None and now - last < self._min_interval:
            return None, JSONResponse(
                {"message": "Too many requests"}, 429, headers={"Retry-After": "1"}
            )
        self._last_request[key] = now
        return account, None
