"""Slack's Web API (`/api/<method>`) and response URLs (`/response/<id>`) over a `Workspace`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .methods import METHODS, blocks_arg, flag
from .models import ResponseUrl, WorkspaceError
from .workspace import Workspace

JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
MAX_RESPONSE_URL_USES = 5


def create_app(workspace: Workspace) -> Starlette:
    """The fake's ASGI app; whoever serves it sets `workspace.base_url` to its root URL."""

    async def api(request: Request) -> Response:
        method = request.path_params["method"]
        error: str | None = None
        args: dict[str, Any] = {}
        try:
            args = await _arguments(request)
            token = args.pop("token", None) or _bearer(request)
            if token != workspace.bot_token:
                raise WorkspaceError("invalid_auth")
            handler = METHODS.get(method)
            if handler is None:
                raise WorkspaceError("unknown_method")
            answer = {"ok": True, **handler(workspace, args)}
        except WorkspaceError as failure:
            error = failure.error
            answer = {"ok": False, "error": error}
        workspace.record(method, args, error)
        return JSONResponse(answer)

    async def respond(request: Request) -> Response:
        url = workspace.issued_response_url(request.path_params["url_id"])
        body: Any = {}
        error: str | None
        try:
            if url is None:
                raise WorkspaceError("no_such_url")
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise WorkspaceError("invalid_payload")
            _respond(workspace, url, body)
        except ValueError:
            error = "invalid_payload"
        except WorkspaceError as failure:
            error = failure.error
        else:
            error = None
        workspace.record("response_url", body if isinstance(body, dict) else {}, error)
        if error is None:
            return PlainTextResponse("ok")
        return PlainTextResponse(error, 404 if error in ("no_such_url", "used_url") else 400)

    return Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/response/{url_id}", respond, methods=["POST"]),
        ]
    )


async def _arguments(request: Request) -> dict[str, Any]:
    """Query parameters plus a JSON or form body; JSON strings in form fields decoded."""
    args: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise WorkspaceError("invalid_json") from None
        if not isinstance(data, dict):
            raise WorkspaceError("invalid_json")
        args.update(data)
    elif body:
        args.update(parse_qsl(body.decode(), keep_blank_values=True))
    for key in JSON_FIELDS:
        if isinstance(args.get(key), str) and args[key].strip()[:1] in ("[", "{"):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                raise WorkspaceError(f"invalid_{key}") from None
    return args


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _respond(ws: Workspace, url: ResponseUrl, body: dict[str, Any]) -> None:
    """A post to a response URL: ephemeral by default, or replace/delete the original."""
    if url.uses >= MAX_RESPONSE_URL_USES:
        raise WorkspaceError("used_url")
    target_ts = url.message_ts or url.last_ts
    target = ws.message(url.channel_id, target_ts) if target_ts else None
    text, blocks = str(body.get("text") or ""), blocks_arg(body.get("blocks")) or []
    if flag(body.get("delete_original")):
        if target is None:
            raise WorkspaceError("message_not_found")
        ws.delete(target)
    elif flag(body.get("replace_original")) and target is not None:
        if not text and not blocks:
            raise WorkspaceError("no_text")
        ws.replace(target, text=text, blocks=blocks)
    else:
        in_channel = body.get("response_type") == "in_channel"
        message = ws.post(
            url.channel_id,
            text=text,
            blocks=blocks,
            thread_ts=body.get("thread_ts") or None,
            ephemeral_to=None if in_channel else url.user_id,
            unfurl_links=flag(body.get("unfurl_links")),
            unfurl_media=flag(body.get("unfurl_media")),
            metadata=body.get("metadata"),
        )
        url.last_ts = message.ts
    url.uses += 1
