"""The API's OpenAPI description against the running app, on SQLite and PostgreSQL.

schemathesis generates requests for every operation from the description: its examples (the
seeded stores), the boundaries of every parameter and body (the coverage phase) and random
input, valid and not (the fuzzing phase). Every answer must be one the description
documents: no 500s, a documented status, content type, headers and a body matching its
schema; invalid input refused, valid input accepted.

The app and its database live in the test's event loop (the fixtures made them there);
schemathesis sends from a thread of its own, through an ASGI bridge into that loop.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from bot.domain import Dependencies
from handlers.api import PREFIX
from handlers.api.openapi import description
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.domain.posting_helpers import ready_store
from tests.web_fixtures import BOT

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240601,
        "generation": {"mode": "all", "max-examples": 100},
        "phases": {"stateful": {"enabled": False}},
    }
)
# A cursor is next_cursor as the API gave it: valid ones are these (the domain's encoding).
schemathesis.openapi.format(
    "cursor",
    st.integers(min_value=0, max_value=10**6).map(
        lambda n: base64.urlsafe_b64encode(f"s{n}".encode()).decode().rstrip("=")
    ),
)
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(description()), config=CONFIG)


@dataclass(frozen=True)
class Served:
    """The app in the test's event loop, and how to reach it from schemathesis's thread."""

    loop: asyncio.AbstractEventLoop
    bridge: Asgi
    key: str

    def run(self, call: Callable[[], object]) -> object:
        """Run `call` (which sends through the bridge) in a thread while the loop serves."""
        return self.loop.run_until_complete(asyncio.to_thread(call))


def bridged(app: Starlette, loop: asyncio.AbstractEventLoop) -> Asgi:
    """An ASGI app for another thread's event loop that answers with `app` in `loop`."""

    async def in_loop(scope: dict[str, Any], body: bytes) -> list[Message]:
        sent: list[Message] = []
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}  # pragma: no cover

        async def send(message: Message) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    async def bridge(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        future = asyncio.run_coroutine_threadsafe(in_loop(dict(scope), body), loop)
        for message in await asyncio.wrap_future(future):
            await send(message)

    return bridge


@pytest.fixture
async def served(
    api_app: Starlette,
    api_key: str,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> Served:
    """acme/S001 ready for sync, acme/S002 connected and not: the description's examples."""
    await ready_store(web_deps, cloudpos, emulator)
    loop = asyncio.get_running_loop()
    return Served(loop=loop, bridge=bridged(api_app, loop), key=api_key)


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_app_answers_as_described(case: schemathesis.Case, served: Served) -> None:
    # Checks that send requests of their own (without the key, say) reach this test's app.
    case.operation.app = case.operation.schema.app = served.bridge
    headers = {"Authorization": f"Bearer {served.key}"}
    # A cursor the API never gave is refused (400) as the description says, though it matches
    # the cursor's schema: schema-valid, yet not one to accept.
    excluded = [positive_data_acceptance] if _foreign_cursor(case) else []
    served.run(lambda: case.call_and_validate(headers=headers, excluded_checks=excluded))


def _foreign_cursor(case: schemathesis.Case) -> bool:
    cursor = (case.query or {}).get("cursor")
    if not isinstance(cursor, str):
        return False
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        return True
    return not (text.startswith("s") and text[1:].isascii() and text[1:].isdigit())


# The description itself, and the routes it describes.


def test_the_description_is_valid_openapi_3_1() -> None:
    assert description()["openapi"].startswith("3.1.")
    SCHEMA.validate()


def _served_routes(app: Starlette) -> Iterator[tuple[str, str]]:
    (mount,) = [route for route in app.routes if isinstance(route, Mount) and route.path == PREFIX]
    for route in mount.routes:
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":  # Starlette's, for every GET
                yield method.lower(), PREFIX + route.path


def test_every_route_served_is_described_and_every_described_one_served(api_app: Starlette) -> None:
    described = {
        (method, path)
        for path, item in description()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert set(_served_routes(api_app)) == described


async def test_the_app_serves_this_description(api_app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url=BOT) as web:
        answer = await web.get(f"{PREFIX}/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == description()


# What the description cannot say: the edges of every route.


async def test_an_unknown_route_under_the_prefix_is_a_problem(api: httpx.AsyncClient) -> None:
    for path in ["/nope", "/stores/acme/S001/nope", "/stores/acme/%0A/token/x", "/%0A"]:
        answer = await api.get(PREFIX + path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", path
        assert answer.json()["status"] == 404


async def test_a_wrong_method_is_a_problem_saying_which_are_allowed(
    api: httpx.AsyncClient,
) -> None:
    for method, path, allowed in [
        ("DELETE", "/stores", {"GET", "HEAD"}),
        ("POST", "/events", {"GET", "HEAD"}),
        ("GET", "/stores/acme/S001/token", {"POST"}),
        ("PUT", "/stores/acme/S001/problems", {"POST"}),
    ]:
        answer = await api.request(method, PREFIX + path)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["content-type"] == "application/problem+json"
        assert {m.strip() for m in answer.headers["allow"].split(",")} == allowed
        assert answer.json()["status"] == 405


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_a_body_over_16_kib_is_refused(api: httpx.AsyncClient, declared: bool) -> None:
    body = b'{"kind": "other", "detail": "' + b"x" * (16 * 1024) + b'"}'

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    answer = await api.post(
        f"{PREFIX}/stores/acme/S001/problems",
        content=body if declared else streamed(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 413


ODD_AUTHORIZATIONS = [
    b"Bearer \x00",
    b"Bearer xb_\x00\x00",
    b"Bearer \xff\xfe\xfd",
    b"Bearer \xc3\x28",
    b"\x00",
    b"Bearer",
    b"Bearer  ",
    b"bearer\ttab",
    b"Basic Zm9vOmJhcg==",
    b"Bearer " + b"a" * 10_000,
    b"Bearer " + "ключ".encode(),
    b"Bearer \x7f\x1b[31m",
]


async def test_odd_bytes_in_the_authorization_header_are_a_401(
    api_app: Starlette, api_key: str, served: Served
) -> None:
    """Starlette reads header bytes as latin-1: whatever arrives is a string to refuse."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url=BOT) as web:
        for value in [*ODD_AUTHORIZATIONS, f"Bearer {api_key}\x00".encode()]:
            for method, path in [("GET", "/stores"), ("POST", "/stores/acme/S001/token")]:
                answer = await web.request(method, PREFIX + path, headers={"Authorization": value})
                assert answer.status_code == 401, (value, path, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.headers["www-authenticate"].startswith("Bearer")
