"""JSON in and out of the API: bounded, checked bodies; ISO 8601 times; no caching."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .problems import ApiProblem, invalid

MAX_BODY = 16 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def json_response(body: Any, *, status: int = 200) -> Response:
    return Response(
        json.dumps(body, default=_plain, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object, or a 400/413/415 problem saying what is wrong.
    An oversized body is refused as soon as it is known to be (never read whole)."""
    too_large = ApiProblem(413, "Body too large", f"The body may be at most {MAX_BODY} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiProblem(
            415, "Unsupported media type", "Send the body as JSON (Content-Type: application/json)."
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_large
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise invalid("The body is not valid JSON.", field="body") from None
    if not isinstance(parsed, dict):
        raise invalid("The body must be a JSON object.", field="body")
    return parsed


def clean_text(value: str, *, limit: int) -> str:
    """Text from a caller, safe to store and show: no control characters, valid UTF-8."""
    value = _CONTROL.sub("", value)
    return value.encode("utf-8", "replace").decode("utf-8")[:limit]


def is_clean(value: str, *, limit: int) -> bool:
    """Whether a name from a path or query could be one the bot stores."""
    return 0 < len(value) <= limit and clean_text(value, limit=limit) == value


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(type(value).__name__)
