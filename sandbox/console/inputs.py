"""Reading the console's JSON requests; anything wrong is a `BadRequest` (a 400 for the page)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

COMMAND = "/xero"


class BadRequest(Exception):
    """Bad input from the page: answered with 400 and `{"error": message}`."""


async def json_body(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise BadRequest("send JSON with content-type: application/json")
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def text(body: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"{key!r} must be a non-empty string")
    return value


def strings(body: Mapping[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"{key!r} must be a list of strings")
    return value


def chosen(body: Mapping[str, Any]) -> str | list[str] | None:
    """A click's `selected`: one value, a list of values, or nothing (a button)."""
    value = body.get("selected")
    if value is None or isinstance(value, str):
        return value
    return strings(body, "selected")


def modal_values(body: Mapping[str, Any], key: str = "values") -> dict[str, dict[str, Any]]:
    """`{block_id: {action_id: value}}`, each value a string, a list of strings or null
    (`key` "inputs": what a modal's inputs hold as the person acts in it)."""
    values = body.get(key, {})
    if not isinstance(values, dict):
        raise BadRequest(f"{key!r} must be an object of {{block_id: {{action_id: value}}}}")
    for entries in values.values():
        if not isinstance(entries, dict) or not all(
            value is None
            or isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(item, str) for item in value))
            for value in entries.values()
        ):
            raise BadRequest("each value must be a string, a list of strings or null")
    return values


def command_text(raw: str) -> str:
    """What follows "/xero" (which may be left out); other slash commands are not installed."""
    typed = raw.strip()
    if not typed.startswith("/"):
        return typed
    command, _, rest = typed.partition(" ")
    if command.lower() != COMMAND:
        raise BadRequest(f"{command} is not a command here: only {COMMAND} is installed")
    return rest.strip()


def number(value: str | None, name: str, *, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        parsed = float(value)
    except ValueError:
        parsed = math.nan
    if not math.isfinite(parsed):
        raise BadRequest(f"{name!r} must be a number")
    return parsed
