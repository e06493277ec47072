"""HTTP pieces of the console: its security headers, JSON answers, and the API's guard."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from sandbox.fake_slack import WorkspaceError

from .inputs import BadRequest

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
NO_STORE = {**HEADERS, "cache-control": "no-store"}
STATIC = {
    "console.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
    "console.js": "text/javascript; charset=utf-8",
    "blocks.js": "text/javascript; charset=utf-8",
    "elements.js": "text/javascript; charset=utf-8",
    "modal.js": "text/javascript; charset=utf-8",
    "pickers.js": "text/javascript; charset=utf-8",
    "mrkdwn.js": "text/javascript; charset=utf-8",
    "sidebar.js": "text/javascript; charset=utf-8",
}
Handler = Callable[[Request], Awaitable[Response]]


def json_answer(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code, headers=NO_STORE)


def bot_answer(response: httpx.Response | None, **extra: Any) -> JSONResponse:
    """The bot's answer as the page sees it: its status (mirrored) and plain-text ack."""
    if response is None:  # Slack sent the bot nothing (e.g. a modal without notify_on_close)
        return json_answer({"status": None, "text": None, **extra})
    plain = response.headers.get("content-type", "").startswith("text/plain")
    content = {"status": response.status_code, "text": response.text if plain else None}
    return json_answer({**content, **extra}, response.status_code)


def guarded_api(handler: Handler) -> Handler:
    """Bad input → 400 JSON; an unreachable bot → 502; never a stack trace to the page."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except (BadRequest, LookupError, ValueError) as error:
            message = str(error.args[0]) if error.args else type(error).__name__
            return json_answer({"error": message}, 400)
        except WorkspaceError as error:
            return json_answer({"error": error.error}, 400)
        except httpx.HTTPError as error:
            return json_answer({"error": f"the bot did not answer ({type(error).__name__})"}, 502)
        except Exception:
            log.exception("slack console: %s %s failed", request.method, request.url.path)
            return json_answer({"error": "the console failed; see the server log"}, 500)

    return guarded


async def disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def static_file(request: Request) -> Response:
    """One of the page's own files (a fixed list), never anything else from disk."""
    name = request.path_params["name"]
    if name not in STATIC:
        return Response("Not found", 404, headers=HEADERS, media_type="text/plain")
    headers = {**HEADERS, "cache-control": "no-cache"}
    return FileResponse(STATIC_DIR / name, media_type=STATIC[name], headers=headers)
