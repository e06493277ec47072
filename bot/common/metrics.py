"""Prometheus metrics: HTTP requests by route, Slack requests, Xero and Cloud POS calls,
Xero token refreshes and consent outcomes.

Labels only ever take values from a small fixed set (route templates, never paths: a
consent link's path is its token), so nothing secret or unbounded reaches the scrape.
`/metrics` is served only when METRICS_TOKEN is set, to `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import parse_qs

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "xero_bot_http_requests_total",
    "HTTP requests answered, by route.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "xero_bot_http_request_duration_seconds", "Time to answer an HTTP request.", ["route"]
)
SLACK_REQUESTS = Counter(
    "xero_bot_slack_requests_total", "Slack requests, by kind and command.", ["kind", "name"]
)
SLACK_LATENCY = Histogram(
    "xero_bot_slack_request_duration_seconds",
    "Time to answer Slack (the acknowledgement), by kind and command.",
    ["kind", "name"],
)
UPSTREAM_CALLS = Counter(
    "xero_bot_upstream_requests_total",
    "HTTP requests to Xero and Cloud POS, by outcome.",
    ["service", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "xero_bot_upstream_request_duration_seconds",
    "Time Xero and Cloud POS took to answer.",
    ["service"],
)
REFRESHES = Counter(
    "xero_bot_xero_token_refreshes_total", "Xero token refreshes, by outcome.", ["outcome"]
)
CONSENT_EVENTS = Counter(
    "xero_bot_consent_events_total",
    "Consent progress: authorised, completed, cancelled, failed.",
    ["kind"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def observe_slack(kind: str, name: str, seconds: float) -> None:
    """Count one Slack request; `name` (a subcommand, action id or view id) must be one the
    bot defines: anything else is counted as "other"."""
    if not _NAME.fullmatch(name.removeprefix("/xero ")):
        name = "other"
    kind = kind if _NAME.fullmatch(kind) else "other"
    SLACK_REQUESTS.labels(kind=kind, name=name).inc()
    SLACK_LATENCY.labels(kind=kind, name=name).observe(seconds)


def slack_labels(body: bytes, *, subcommands: Collection[str]) -> tuple[str, str]:
    """Kind and name of a verified Slack request, from its form body."""
    fields = parse_qs(body.decode("utf-8", "replace"))
    try:
        if "command" in fields:
            words = fields.get("text", [""])[0].split()
            word = words[0].lower() if words else "help"
            return "command", f"/xero {word}" if word in subcommands else "/xero other"
        payload = json.loads(fields["payload"][0])
        kind = str(payload["type"])
        if kind == "block_actions":
            return kind, str(payload["actions"][0]["action_id"])
        if kind in ("view_submission", "view_closed"):
            return kind, str(payload["view"]["callback_id"])
        return kind, str(payload.get("action_id", "other"))
    except (KeyError, IndexError, TypeError, ValueError):
        return "unknown", "other"


@contextmanager
def refreshing() -> Iterator[None]:
    """Around one Xero token refresh: counted as ok or by the error's class."""
    try:
        yield
    except Exception as error:
        REFRESHES.labels(outcome=type(error).__name__).inc()
        raise
    REFRESHES.labels(outcome="ok").inc()


class MeteredTransport(httpx.AsyncBaseTransport):
    """Wraps the transport of the Xero and Cloud POS clients: every request, retries too."""

    def __init__(self, service: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._service = service
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await self._inner.handle_async_request(request)
            status = response.status_code
            outcome = "429" if status == httpx.codes.TOO_MANY_REQUESTS else f"{status // 100}xx"
            return response
        except httpx.TimeoutException:
            outcome = "timeout"
            raise
        finally:
            UPSTREAM_CALLS.labels(service=self._service, outcome=outcome).inc()
            UPSTREAM_LATENCY.labels(service=self._service).observe(time.perf_counter() - started)

    async def aclose(self) -> None:
        await self._inner.aclose()


class HttpMetrics:
    """ASGI middleware: requests and latency by route template ("other" when none matched)."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self._app = app
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        route = self._route(dict(scope))  # before the router rewrites `scope` for mounts
        try:
            await self._app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
            HTTP_LATENCY.labels(route=route).observe(time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        return _template(scope, self._routes, prefix="") or "other"


def _template(scope: Scope, routes: Sequence[BaseRoute], *, prefix: str) -> str | None:
    """The template of the route `scope` matches, looking inside mounted apps' routes."""
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        path = prefix + str(getattr(route, "path", ""))
        if isinstance(route, Mount) and route.routes:
            return _template({**scope, **child}, route.routes, prefix=path) or path
        return path or "/"
    return None


def metrics_endpoint(token: str) -> Callable[[Request], Awaitable[Response]]:
    """GET /metrics for Prometheus, to the bearer of METRICS_TOKEN only."""
    expected = f"Bearer {token}".encode()

    async def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(
                "Send METRICS_TOKEN as a bearer token.\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics
