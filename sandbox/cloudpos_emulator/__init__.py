"""An in-memory Cloud POS API for the sandbox: the licence and store endpoints the bot uses.

It follows the contract in the README ("The Cloud POS contract"): the API key as the raw
`Authorization` header, 401 for an unknown key, 429 past one request a second per key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass
class CloudPosAccount:
    api_key: str
    group: str
    licence: str
    stores: list[tuple[str, str, bool]] = field(default_factory=list)
    """(storeClientCode, name, active)"""


class CloudPosEmulator:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.accounts: dict[str, CloudPosAccount] = {}
        self._clock = clock
        self._last_request: dict[str, float] = {}
        self.app = Starlette(
            routes=[
                Route("/", self._home, name="home"),
                Route("/api/licence", self._licence),
                Route("/api/stores", self._stores),
            ]
        )

    def add_account(
        self, api_key: str, *, group: str, licence: str, stores: list[tuple[str, str]]
    ) -> CloudPosAccount:
        account = CloudPosAccount(
            api_key, group, licence, [(code, name, True) for code, name in stores]
        )
        self.accounts[api_key] = account
        return account

    async def _home(self, request: Request) -> Response:
        return TEMPLATES.TemplateResponse(
            request, "home.html", {"accounts": list(self.accounts.values())}
        )

    async def _licence(self, request: Request) -> Response:
        account, refusal = self._authorised(request)
        if refusal is not None:
            return refusal
        assert account is not None
        return JSONResponse({"group": account.group, "licence": account.licence})

    async def _stores(self, request: Request) -> Response:
        account, refusal = self._authorised(request)
        if refusal is not None:
            return refusal
        assert account is not None
        return JSONResponse(
            [
                {"storeClientCode": code, "name": name, "active": active}
                for code, name, active in account.stores
            ]
        )

    def _authorised(self, request: Request) -> tuple[CloudPosAccount | None, Response | None]:
        key = request.headers.get("authorization", "")
        account = self.accounts.get(key)
        if account is None:
            return None, JSONResponse({"message": "API key not valid or not active"}, 401)
        now = self._clock()
        last = self._last_request.get(key)
        if last is not None and now - last < 1.0:
            return None, JSONResponse(
                {"message": "Too many requests"}, 429, headers={"Retry-After": "1"}
            )
        self._last_request[key] = now
        return account, None
