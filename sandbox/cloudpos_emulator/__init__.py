"""An in-memory Cloud POS API for the sandbox: the licence, store and tender endpoints the
bot uses.

It follows the contract in the README ("The Cloud POS contract"): the API key as the raw
`Authorization` header, 401 for an unknown key, 429 past one request a second per key, 404
for the tenders of a store the key's group does not have.

Tests mount `app` into the bot's real `CloudPosClient` with `httpx.ASGITransport`; they
change an account's stores in place and set `delay` for a slow Cloud POS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
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
class CloudPosTender:
    """A payment type of a store, as `/api/stores/{code}/tenders` lists it."""

    id: str
    name: str
    type: str


DEFAULT_TENDERS = (
    ("T1", "Cash", "Cash"),
    ("T2", "Card (EFTPOS)", "Card"),
    ("T3", "Gift card", "GiftCard"),
    ("T4", "Voucher", "Voucher"),
)
"""(id, name, type) of the tenders a store has unless told otherwise: a typical till's."""


def default_tenders() -> list[CloudPosTender]:
    return [CloudPosTender(*tender) for tender in DEFAULT_TENDERS]


@dataclass
class CloudPosStore:
    code: str
    """Cloud POS's `storeClientCode`."""
    name: str
    active: bool = True
    tenders: list[CloudPosTender] = field(default_factory=default_tenders)
    """What its tenders endpoint answers, in order; change it to add or rename tenders."""


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
                Route("/api/stores/{code:path}/tenders", self._tenders),
            ]
        )

    def add_account(
        self,
        api_key: str,
        *,
        group: str,
        licence: str = "ProPlus",
        stores: int | Sequence[tuple[str, str]] = 3,
        tenders: Mapping[str, Sequence[tuple[str, str, str]]] | None = None,
    ) -> CloudPosAccount:
        """An account with `stores` as (code, name) pairs, or that many numbered ones:
        S001 "{group} store 1", S002 "{group} store 2", …

        `tenders` gives some stores, by code, their (id, name, type) tenders; the others get
        `DEFAULT_TENDERS`. A code that is not one of the stores is a mistake, so it raises.
        """
        if isinstance(stores, int):
            stores = [(f"S{n:03}", f"{group} store {n}") for n in range(1, stores + 1)]
        tenders = tenders or {}
        unknown = set(tenders) - {code for code, _name in stores}
        if unknown:
            raise ValueError(f"tenders for stores the account does not have: {sorted(unknown)}")
        account = CloudPosAccount(
            api_key,
            group,
            licence,
            [
                CloudPosStore(code, name, tenders=[CloudPosTender(*t) for t in tenders[code]])
                if code in tenders
                else CloudPosStore(code, name)
                for code, name in stores
            ],
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

    async def _tenders(self, request: Request) -> Response:
        account, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        assert account is not None
        code = request.path_params["code"]
        store = next((store for store in account.stores if store.code == code), None)
        if store is None:
            return JSONResponse({"message": "Store not found"}, 404)
        return JSONResponse(
            [
                {"id": tender.id, "name": tender.name, "type": tender.type}
                for tender in store.tenders
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
