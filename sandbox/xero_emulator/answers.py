"""Response shapes shared by the emulator's endpoints: Xero's error bodies and injected faults."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .faults import Endpoint, FaultInjector

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Sleep = Callable[[float], Awaitable[None]]


def root(request: Request) -> str:
    """The prefix the app is mounted under ("" at the top), for every URL it renders."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, detail: str) -> dict[str, object]:
    """Xero's API error body."""
    return {
        "Type": None,
        "Title": phrase(status),
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def invalid_client() -> Response:
    return JSONResponse(
        {"error": "invalid_client"}, 401, headers={"WWW-Authenticate": "Basic", **NO_STORE}
    )


def unauthorized() -> Response:
    return JSONResponse(
        problem(401, "AuthenticationUnsuccessful"),
        401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def injected_fault(
    faults: FaultInjector, endpoint: Endpoint, sleep: Sleep
) -> Response | None:
    """The injected answer for this call of `endpoint`, or None to handle it normally.

    The identity endpoints answer plain text (like a gateway would), so OAuth clients see an
    HTTP error rather than a JSON body they might take for a token answer.
    """
    fault = faults.take_fault(endpoint)
    if fault is None:
        return None
    if fault.delay:
        await sleep(fault.delay)
    if fault.status < 400:
        return None
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if fault.status == 429:
        headers["X-Rate-Limit-Problem"] = "minute"
    if endpoint in ("token", "revoke"):
        return PlainTextResponse(phrase(fault.status), fault.status, headers)
    return JSONResponse(problem(fault.status, "Injected fault"), fault.status, headers)
