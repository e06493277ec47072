"""Pushes store events to the sync service's webhook, signed as Slack signs its requests.

Each request carries `X-Xero-Bot-Request-Timestamp` (Unix seconds) and
`X-Xero-Bot-Signature: v0=<hex>`, the HMAC-SHA256 with SYNC_WEBHOOK_SECRET of
`v0:<timestamp>:<body>`; the receiver recomputes it, compares in constant time, and refuses
timestamps more than five minutes off (a replayed request). `X-Xero-Bot-Event-Id` repeats
the event's id for deduplication: a delivery is retried until answered with a 2xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable

import httpx

from ._http import USER_AGENT

SIGNATURE_HEADER = "X-Xero-Bot-Signature"
TIMESTAMP_HEADER = "X-Xero-Bot-Request-Timestamp"
EVENT_ID_HEADER = "X-Xero-Bot-Event-Id"
VERSION = "v0"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class WebhookClient:
    """The sync service's webhook over HTTP; implements the domain's `WebhookReceiver`."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    async def deliver(self, *, event_id: int, body: bytes) -> str | None:
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            EVENT_ID_HEADER: str(event_id),
        }
        try:
            # httpx's timeout bounds each read, not the answer: a receiver trickling it
            # byte by byte would hold a round past the pusher's lease.
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(self._url, content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            return "the webhook did not answer in time"
        except httpx.HTTPError as error:
            return f"the webhook could not be reached ({type(error).__name__})"
        if response.is_success:
            return None
        return f"the webhook answered HTTP {response.status_code}"

    async def aclose(self) -> None:
        await self._http.aclose()
