"""The customer's web pages: consent link landing, Xero callback, organisation choice."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import pages


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", pages.health, name="health"),
        Route("/connect/{token}", pages.landing, methods=["GET"], name="landing"),
        Route("/connect/{token}", pages.start, methods=["POST"], name="start"),
        Route(
            "/connect/{token}/organisation", pages.choose, methods=["GET", "POST"], name="choose"
        ),
        Route("/connect/{token}/done", pages.done, methods=["GET"], name="done"),
        Route("/xero/callback", pages.xero_callback, methods=["GET"], name="xero_callback"),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]
