"""A ceiling on request bodies, for every route, before anything reads or parses them.

Slack's payloads and the customer pages' forms are a few kilobytes. Without a ceiling, an
unsigned 700 MiB POST to `/slack/events` is read whole into memory before its signature is
checked. The declared `Content-Length` is refused at once; a body without one (chunked) is
counted as it streams and cut off at the limit.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 512 * 1024
TOO_LARGE = b"Request body too large: this service takes at most %d bytes.\n"
PROBLEM_PATHS = ("/api/",)
"""Where a refusal is a problem document (RFC 9457), as the API's other errors are."""


class BodyLimit:
    """ASGI middleware answering 413 to any request body over `max_bytes`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        problem = scope["path"].startswith(PROBLEM_PATHS)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, problem=problem)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send, problem=problem)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send, *, problem: bool) -> None:
        if problem:
            detail = (TOO_LARGE % self.max_bytes).decode().strip()
            body = json.dumps(
                {"type": "about:blank", "title": "Body too large", "status": 413, "detail": detail}
            ).encode()
            media = b"application/problem+json"
        else:
            body, media = TOO_LARGE % self.max_bytes, b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
