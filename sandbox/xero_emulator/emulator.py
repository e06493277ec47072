"""`XeroEmulator`: the in-memory Xero plus the Starlette app that serves it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from starlette.applications import Starlette

from .answers import Sleep
from .routes import build_app
from .state import EmulatorState, utc_now
from .traffic import EmulatorTransport


class XeroEmulator(EmulatorState):
    """A stand-in for Xero's identity server and API, for tests and the local sandbox.

    Serve `app` at any root, e.g. `Mount("/xero", app=emulator.app)`, and point the bot at
    `{root}/identity/connect/authorize`, `…/token`, `…/revocation` and `{root}/api`.
    `sleep` is what an injected `delay` awaits; tests pass a fake one.
    """

    app: Starlette

    def __init__(
        self,
        *,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - the emulator's own fake secret
        app_name: str = "Cloud POS",
        clock: Callable[[], datetime] = utc_now,
        access_token_lifetime: timedelta = timedelta(minutes=30),
        grace: timedelta = timedelta(minutes=30),
        refresh_token_lifetime: timedelta = timedelta(days=60),
        code_lifetime: timedelta = timedelta(minutes=5),
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            app_name=app_name,
            clock=clock,
            access_token_lifetime=access_token_lifetime,
            grace=grace,
            refresh_token_lifetime=refresh_token_lifetime,
            code_lifetime=code_lifetime,
        )
        self.app = build_app(self, sleep=sleep)

    def transport(self) -> EmulatorTransport:
        """An httpx transport onto `app`, for the bot's real `XeroClient` in tests. It is
        the one that loses the answers `lose_next_answers` picked."""
        return EmulatorTransport(app=self.app)

    def __repr__(self) -> str:
        return f"XeroEmulator(client_id={self.client_id!r}, app_name={self.app_name!r})"
