"""Bearer keys on every API route but the description: 401 for a missing, unknown or revoked
key, with nothing about which it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from bot.domain import Dependencies, api_keys
from bot.domain.api_keys import Caller, UsageCounter

from .problems import ApiProblem

Endpoint = Callable[[Request, Caller], Awaitable[Response]]

UNAUTHORIZED = ApiProblem(
    401,
    "Unauthorized",
    "Send a valid API key as `Authorization: Bearer <key>` (`xero-bot api-key create` makes one).",
    headers={"WWW-Authenticate": 'Bearer realm="xero-bot"'},
)


async def caller_of(request: Request, deps: Dependencies, usage: UsageCounter) -> Caller:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise UNAUTHORIZED
    caller = await api_keys.authenticate(deps, presented=presented.strip())
    if caller is None:
        raise UNAUTHORIZED
    await usage.count(deps, caller)
    return caller
