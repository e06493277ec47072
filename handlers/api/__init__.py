"""The sync service's API, under /api/v1: stores, tokens, problem reports and events.

A Starlette app of its own, mounted by the composition root, so its errors are problem
documents rather than the customer pages' HTML.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from bot.domain import Dependencies
from bot.domain.api_keys import UsageCounter

from . import endpoints
from .openapi import description
from .problems import http_problem, unexpected_problem

PREFIX = "/api/v1"

__all__ = ["PREFIX", "api_mount"]


def api_mount(
    deps: Callable[[], Dependencies],
    *,
    usage: UsageCounter,
    on_broken: Callable[[Dependencies], Awaitable[object]] | None = None,
) -> Mount:
    """The API's routes; `on_broken` runs (after the answer) when a reported problem turned
    out to be a broken connection, to alert the helpdesk."""
    api = endpoints.Api(deps=deps, usage=usage, on_broken=on_broken)

    async def openapi(_request: Request) -> Response:
        return endpoints.json_response(description())

    app = Starlette(
        routes=[
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/stores", api.stores, methods=["GET"]),
            Route("/stores/{group}/{store_code}", api.store, methods=["GET"]),
            Route("/stores/{group}/{store_code}/token", api.token, methods=["POST"]),
            Route("/stores/{group}/{store_code}/problems", api.problem, methods=["POST"]),
            Route("/events", api.events, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_problem, Exception: unexpected_problem},
    )
    mount = Mount(PREFIX, app=app, name="api")
    # Starlette's pattern stops at a newline (`.`), so /api/v1/stores/a/%0A would fall through to
    # the customer pages' HTML 404; everything under the prefix is the API's to answer.
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount
