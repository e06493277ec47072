"""What keeps the customer pages safe: a browser cookie, CSRF tokens, headers, rate limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BROWSER_COOKIE = "xero_bot_browser"
SECURE_BROWSER_COOKIE = "__Host-xero_bot_browser"


class BrowserCookie:
    """A random id per browser, so OAuth `state` and CSRF tokens belong to one browser."""

    def __init__(self, *, secure: bool) -> None:
        self.secure = secure
        self.name = SECURE_BROWSER_COOKIE if secure else BROWSER_COOKIE

    def read(self, request: Request) -> str:
        return request.cookies.get(self.name, "")

    def read_or_new(self, request: Request) -> str:
        return self.read(request) or secrets.token_urlsafe(32)

    def set(self, response: Response, browser_id: str) -> None:
        response.set_cookie(
            self.name,
            browser_id,
            max_age=7 * 24 * 3600,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )


class CsrfTokens:
    """HMAC tokens tying a form to the browser that loaded it and to what the form is for.

    Made with the first of TOKEN_ENCRYPTION_KEYS and accepted under any of them, so putting
    a new key first does not refuse the forms customers already have open.
    """

    def __init__(self, keys: str | bytes | Sequence[str | bytes]) -> None:
        if isinstance(keys, str | bytes):
            keys = [keys]
        if not keys:
            raise ValueError("CSRF tokens need at least one key")
        self._keys = [
            hashlib.sha256(b"xero-bot csrf\0" + (k.encode() if isinstance(k, str) else k)).digest()
            for k in keys
        ]

    def issue(self, browser_id: str, purpose: str) -> str:
        return self._token(self._keys[0], browser_id, purpose)

    def valid(self, token: str, browser_id: str, purpose: str) -> bool:
        """Never raises: any text a form sends, ASCII or not, is simply valid or not."""
        if not browser_id:
            return False
        submitted = token.encode("utf-8", "surrogateescape")
        return any(
            hmac.compare_digest(submitted, self._token(key, browser_id, purpose).encode())
            for key in self._keys
        )

    @staticmethod
    def _token(key: bytes, browser_id: str, purpose: str) -> str:
        message = f"{browser_id}\0{purpose}".encode("utf-8", "surrogateescape")
        digest = hmac.new(key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def content_security_policy(*, xero_authorize_url: str) -> str:
    """Only our own stylesheet; forms may post here and be redirected on to Xero's login."""
    parts = urlsplit(xero_authorize_url)
    xero_origin = f"{parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'none'",
            "style-src 'self'",
            "img-src 'self'",
            f"form-action 'self' {xero_origin}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


class SecurityHeaders:
    """Headers on every response: no referrer (links carry tokens), strict CSP, no caching."""

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"cache-control", b"no-store"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (name, value) for name, value in self.headers if name not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RateLimit:
    """At most `limit` requests a minute per client address on the public customer paths.

    Memory is fixed: a sliding-window estimate (this minute's count plus the last minute's,
    weighted by how much of it still overlaps) takes two counters per address, and at most
    `max_clients` addresses are remembered, the least recently seen forgotten first, in
    constant time. IPv6 clients are counted per /64, the block one customer usually holds.
    Each replica counts on its own: with N replicas a client may make N times `limit`.
    The address is uvicorn's `client`, which believes X-Forwarded-For only from the
    proxies in FORWARDED_ALLOW_IPS.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        prefixes: tuple[str, ...] = ("/connect", "/xero"),
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 50_000,
    ) -> None:
        self.app = app
        self.limit = limit
        self.prefixes = prefixes
        self.clock = clock
        self.max_clients = max_clients
        self._windows: OrderedDict[str, list[int]] = OrderedDict()
        """Per address: [minute number, count in that minute, count in the minute before]."""

    @property
    def remembered(self) -> int:
        return len(self._windows)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        retry_after = self._hit(client_key(scope.get("client")), self.clock())
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        response = Response(
            "Too many requests from your address. Wait a minute, then try again.",
            status_code=429,
            headers={"Retry-After": str(retry_after)},
            media_type="text/plain",
        )
        await response(scope, receive, send)

    def _hit(self, key: str, now: float) -> int | None:
        """Count a request; None if allowed, else the seconds to wait."""
        minute, into = divmod(now, WINDOW)
        window = self._windows.pop(key, None)
        if window is None:
            window = [int(minute), 0, 0]
        elif window[0] != int(minute):
            previous = window[1] if window[0] == int(minute) - 1 else 0
            window = [int(minute), 0, previous]
        self._windows[key] = window
        if len(self._windows) > self.max_clients:
            self._windows.popitem(last=False)
        _, current, previous = window
        overlap = 1 - into / WINDOW
        if current + previous * overlap < self.limit:
            window[1] += 1
            return None
        if current >= self.limit or not previous:
            wait = WINDOW - into
        else:
            wait = (1 - (self.limit - current) / previous) * WINDOW - into
        return max(1, math.ceil(wait))


WINDOW = 60.0


def client_key(client: tuple[str, int] | None) -> str:
    """What one client is counted under: its IPv4 address, or its IPv6 /64."""
    if not client:
        return "unknown"
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return client[0][:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
