"""The API's OpenAPI 3.1 description, served at /api/v1/openapi.json and checked against
the running app in CI (tests/handlers/api/test_openapi.py, with schemathesis)."""

from __future__ import annotations

from functools import cache
from typing import Any

from bot.domain.sync import MAX_PAGE_SIZE
from bot.domain.sync_events import MAX_FEED_PAGE

from ._schemas import SCHEMAS, STATUSES, ref
from .endpoints import MAX_WHOLE


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


_UNAUTHORIZED = _problem("No key, or one that is unknown or revoked.")
_PATH = [
    {
        "name": "group",
        "in": "path",
        "required": True,
        "description": "The customer's Cloud POS licence group.",
        "schema": {"type": "string", "maxLength": 200},
        "example": "acme",
    },
    {
        "name": "store_code",
        "in": "path",
        "required": True,
        "description": "The store's Cloud POS store code.",
        "schema": {"type": "string", "maxLength": 100},
        "examples": {
            "ready": {"summary": "Ready for sync", "value": "S001"},
            "connected": {"summary": "Connected, not ready", "value": "S002"},
        },
    },
]
_LIMIT = {
    "name": "limit",
    "in": "query",
    "description": "How many to return at most.",
    "schema": {"type": "integer", "minimum": 1},
}


@cache
def description() -> dict[str, Any]:
    bad = _problem("A parameter or the body is not valid; `field` names it.")
    missing = _problem("No such store.")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "xero-bot sync API",
            "version": "1.0.0",
            "description": "Stores, fresh Xero access tokens, problem reports and store "
            "events, for the service that posts Cloud POS sales to Xero.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This description",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/api/v1/stores": {
                "get": {
                    "summary": "Stores, a page at a time",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"enum": STATUSES}},
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "format": "cursor",
                                "pattern": "^[A-Za-z0-9_-]+$",
                                "minLength": 1,
                                "maxLength": 40,
                            },
                            "description": "next_cursor of the previous page, as it was; "
                            "one the API did not give is refused (400).",
                        },
                        {
                            **_LIMIT,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                        },
                    ],
                    "responses": {
                        "200": _ok("A page of stores, by the order they were added.", "StorePage"),
                        "400": bad,
                        "401": _UNAUTHORIZED,
                    },
                }
            },
            "/api/v1/stores/{group}/{store_code}": {
                "parameters": _PATH,
                "get": {
                    "summary": "One store",
                    "responses": {
                        "200": _ok("The store.", "Store"),
                        "400": bad,
                        "401": _UNAUTHORIZED,
                        "404": missing,
                    },
                },
            },
            "/api/v1/stores/{group}/{store_code}/token": {
                "parameters": _PATH,
                "post": {
                    "summary": "A Xero access token for the store's organisation",
                    "responses": {
                        "200": _ok("Valid for at least five more minutes.", "Token"),
                        "400": bad,
                        "401": _UNAUTHORIZED,
                        "404": missing,
                        "409": _problem("Not connected, or needs reconnecting: `store_status`."),
                        "502": _problem("Xero refused to renew the token for another reason."),
                        "503": {
                            **_problem("Xero is unreachable; try again after Retry-After."),
                            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        },
                    },
                },
            },
            "/api/v1/stores/{group}/{store_code}/problems": {
                "parameters": _PATH,
                "post": {
                    "summary": "Report what Xero told the sync service; the bot checks at once",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref("ProblemReport")}},
                    },
                    "responses": {
                        "200": _ok("Recorded, and checked.", "ProblemReceived"),
                        "400": bad,
                        "401": _UNAUTHORIZED,
                        "404": missing,
                        "413": _problem("The body is over 16 KiB."),
                        "415": _problem("The body is not JSON."),
                    },
                },
            },
            "/api/v1/events": {
                "get": {
                    "summary": "Store events after an id, oldest first",
                    "parameters": [
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_WHOLE},
                        },
                        {
                            **_LIMIT,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_FEED_PAGE},
                        },
                    ],
                    "responses": {
                        "200": _ok("The events, in order.", "EventPage"),
                        "400": bad,
                        "401": _UNAUTHORIZED,
                        "410": _problem(
                            "Events after `after` were deleted (kept 90 days): read /stores "
                            "again, then follow the feed from `last_id` in the problem."
                        ),
                    },
                }
            },
        },
    }
