"""The webhook client: Slack-style signed requests, and failures told in a short line that
never holds the secret."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot.clients.webhook import WebhookClient, signature
from tests.browser import free_port, free_socket, serve
from tests.domain.test_sync_webhook import Receiver

URL = "https://sync.test/hooks/xero-bot"
SECRET = "whsec-client-secret-42"
BODY = json.dumps({"id": 7, "type": "store.ready"}).encode()


async def test_a_request_is_signed_over_its_timestamp_and_body() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(URL).mock(return_value=httpx.Response(204))
        client = WebhookClient(url=URL, secret=SECRET, clock=lambda: 1_700_000_000.9)
        assert await client.deliver(event_id=7, body=BODY) is None
        await client.aclose()

    request = route.calls.last.request
    assert request.content == BODY
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Xero-Bot-Request-Timestamp"] == "1700000000"
    assert request.headers["X-Xero-Bot-Event-Id"] == "7"
    base = b"v0:1700000000:" + BODY
    expected = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    assert request.headers["X-Xero-Bot-Signature"] == expected
    assert signature(SECRET, 1_700_000_000, BODY) == expected
    assert SECRET not in str(request.headers)


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (httpx.Response(503), "the webhook answered HTTP 503"),
        (httpx.Response(301, headers={"Location": "https://elsewhere.test/"}), "HTTP 301"),
        (httpx.Response(404), "the webhook answered HTTP 404"),
        (httpx.ReadTimeout("slow"), "the webhook did not answer in time"),
        (httpx.ConnectError(f"refused {SECRET}"), "the webhook could not be reached"),
        (httpx.RemoteProtocolError("eh"), "the webhook could not be reached"),
    ],
)
async def test_every_failure_is_a_short_line_without_the_secret(
    answer: httpx.Response | Exception, line: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.post(URL).mock(side_effect=[answer])
        elsewhere = router.get("https://elsewhere.test/")
        client = WebhookClient(url=URL, secret=SECRET)
        failure = await client.deliver(event_id=1, body=BODY)
        await client.aclose()
    assert failure is not None
    assert line in failure
    assert len(failure) < 80
    assert SECRET not in failure
    assert not elsewhere.called  # redirects are not followed: a 3xx is a failure


async def test_a_real_receiver_checks_the_signature_and_accepts() -> None:
    receiver = Receiver(SECRET)
    body = json.dumps({"id": 3, "store": {"store_code": "S1"}}).encode()
    async with serve(receiver.app, free_socket()) as base:
        good = WebhookClient(url=f"{base}/hook", secret=SECRET)
        wrong = WebhookClient(url=f"{base}/hook", secret="not-the-secret")
        stale = WebhookClient(url=f"{base}/hook", secret=SECRET, clock=lambda: time.time() - 400)
        assert await good.deliver(event_id=3, body=body) is None
        assert await wrong.deliver(event_id=3, body=body) == "the webhook answered HTTP 401"
        assert await stale.deliver(event_id=3, body=body) == "the webhook answered HTTP 401"
        for client in (good, wrong, stale):
            await client.aclose()
    assert [event["id"] for event in receiver.accepted] == [3]
    assert len(receiver.refused) == 2
    assert receiver.refused[0] == "signature"
    assert receiver.refused[1].startswith("timestamp")


async def test_a_refused_connection_is_a_short_line() -> None:
    client = WebhookClient(url=f"http://127.0.0.1:{free_port()}/hook", secret=SECRET)
    failure = await client.deliver(event_id=1, body=BODY)
    await client.aclose()
    assert failure == "the webhook could not be reached (ConnectError)"


async def slow(request: Request) -> Response:
    await asyncio.sleep(1.6)
    return Response(status_code=204)


async def drip(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            await asyncio.sleep(0.3)
            yield b"."

    return StreamingResponse(chunks(), status_code=200)


@pytest.fixture
async def laggard() -> AsyncIterator[str]:
    app = Starlette(
        routes=[Route("/slow", slow, methods=["POST"]), Route("/drip", drip, methods=["POST"])]
    )
    async with serve(app, free_socket()) as base:
        yield base


@pytest.mark.parametrize("path", ["/slow", "/drip"])
async def test_the_timeout_bounds_the_whole_request(laggard: str, path: str) -> None:
    """A receiver trickling its answer byte by byte is cut off too: a round must end
    within the lease its pusher holds."""
    client = WebhookClient(url=f"{laggard}{path}", secret=SECRET, timeout=1)
    started = time.monotonic()
    failure = await client.deliver(event_id=1, body=BODY)
    elapsed = time.monotonic() - started
    await client.aclose()
    assert failure == "the webhook did not answer in time"
    assert elapsed < 2
