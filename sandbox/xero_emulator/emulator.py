"""`XeroEmulator`: the in-memory Xero plus the Starlette app that serves it."""

from __future__ import annotations

from functools import cached_property

from starlette.applications import Starlette

from .routes import build_app
from .state import EmulatorState
from .traffic import EmulatorTransport


class XeroEmulator(EmulatorState):
    """A stand-in for Xero's identity server and API, for tests and the local sandbox.

    Serve `app` at any root, e.g. `Mount("/xero", app=emulator.app)`, and point the bot at
    `{root}/identity/connect/authorize`, `…/token`, `…/revocation` and `{root}/api`.
    `sleep` is what an injected `delay` awaits; tests pass a fake one.
    """

    @cached_property
    def app(self) -> Starlette:
        return build_app(self, sleep=self.sleep)

    def transport(self, *, timeouts: bool = False) -> EmulatorTransport:
        """An httpx transport onto `app`, for the bot's real `XeroClient` in tests. It is
        the one that loses the answers `lose_next_answers` picked; with `timeouts`, it also
        times out calls answered later than the client's read timeout (held ones)."""
        return EmulatorTransport(app=self.app, timeouts=timeouts)

    def __repr__(self) -> str:
        return f"XeroEmulator(client_id={self.client_id!r}, app_name={self.app_name!r})"
