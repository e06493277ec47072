"""The API's OpenAPI 3.1 description, served at /api/v1/openapi.json and checked against
the running app in CI (tests/handlers/api/test_openapi.py, with schemathesis)."""

from __future__ import annotations

from functools import cache
from typing import Any

from bot.domain.sync import MAX_PAGE_SIZE, SyncStatus
from bot.domain.sync_events import MAX_FEED_PAGE
from bot.domain.sync_problems import MAX_DETAIL, ProblemKind

_STATUSES = [status.value for status in SyncStatus]
_TIME = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_UNAUTHORIZED = _problem("No key, or one that is unknown or revoked.")
_PATH = [
    {
        "name": "group",
        "in": "path",
        "required": True,
        "description": "The customer's Cloud POS licence group.",
        "schema": {"type": "string", "maxLength": 200},
    },
    {
        "name": "store_code",
        "in": "path",
        "required": True,
        "description": "The store's Cloud POS store code.",
        "schema": {"type": "string", "maxLength": 100},
    },
]
_LIMIT = {
    "name": "limit",
    "in": "query",
    "description": "How many to return at most.",
    "schema": {"type": "integer", "minimum": 1},
}

_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": _TEXT,
            "status": {"type": "integer"},
            "detail": _TEXT,
            "field": {"type": "string", "description": "The input at fault."},
            "store_status": {"enum": _STATUSES, "description": "Why no token (409)."},
            "reference": {"type": "string", "description": "Quote it to the helpdesk (500)."},
        },
    },
    "Payment": {
        "type": "object",
        "required": ["tender_id", "tender_name", "account_id"],
        "properties": {
            "tender_id": _TEXT,
            "tender_name": _nullable(_TEXT),
            "account_id": _nullable(_TEXT),
        },
    },
    "Setup": {
        "type": "object",
        "description": "Where the store's sales post, by Xero id, in its organisation.",
        "required": [
            "sales_account_id",
            "tax_type",
            "rounding_account_id",
            "gift_card_account_id",
            "tracking",
            "contact",
            "invoice_status",
            "start_date",
            "payments",
            "updated_at",
            "validated_at",
        ],
        "properties": {
            "sales_account_id": _nullable(_TEXT),
            "tax_type": _nullable(_TEXT),
            "rounding_account_id": _nullable(_TEXT),
            "gift_card_account_id": _nullable(_TEXT),
            "tracking": _nullable(
                {
                    "type": "object",
                    "required": ["category_id", "option_id"],
                    "properties": {"category_id": _TEXT, "option_id": _TEXT},
                }
            ),
            "contact": _nullable(
                {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {"id": _TEXT, "name": _nullable(_TEXT)},
                }
            ),
            "invoice_status": _nullable({"enum": ["DRAFT", "AUTHORISED"]}),
            "start_date": _nullable({"type": "string", "format": "date"}),
            "payments": {"type": "array", "items": _ref("Payment")},
            "updated_at": _TIME,
            "validated_at": _nullable(_TIME),
        },
    },
    "Store": {
        "type": "object",
        "required": [
            "group",
            "store_code",
            "store_name",
            "customer_name",
            "status",
            "ready_at",
            "tenant_id",
            "organisation_name",
            "setup",
            "attention",
            "updated_at",
        ],
        "properties": {
            "group": _TEXT,
            "store_code": _TEXT,
            "store_name": _TEXT,
            "customer_name": _TEXT,
            "status": {"enum": _STATUSES, "description": "ready: connected and marked ready."},
            "ready_at": _nullable(_TIME),
            "tenant_id": _nullable(_TEXT),
            "organisation_name": _nullable(_TEXT),
            "setup": _nullable(_ref("Setup")),
            "attention": _nullable({"type": "string", "description": "Why it needs the helpdesk."}),
            "updated_at": _TIME,
        },
    },
    "StorePage": {
        "type": "object",
        "required": ["stores", "next_cursor"],
        "properties": {
            "stores": {"type": "array", "items": _ref("Store")},
            "next_cursor": _nullable({"type": "string", "description": "null: the last page."}),
        },
    },
    "Token": {
        "type": "object",
        "required": ["access_token", "tenant_id", "expires_at"],
        "properties": {
            "access_token": {"type": "string", "description": "Send as Bearer to Xero's API."},
            "tenant_id": {"type": "string", "description": "Send as the xero-tenant-id header."},
            "expires_at": {**_TIME, "description": "At least five minutes from now."},
        },
    },
    "ProblemReport": {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"enum": [kind.value for kind in ProblemKind]},
            "detail": {"type": "string", "maxLength": MAX_DETAIL},
        },
    },
    "ProblemReceived": {
        "type": "object",
        "required": ["check", "status", "broken"],
        "properties": {
            "check": {"enum": ["checked", "recently_checked", "not_connected"]},
            "status": {"enum": _STATUSES, "description": "The store's status after the check."},
            "broken": {"type": "boolean", "description": "The check found it broken now."},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "type", "occurred_at", "store", "data"],
        "properties": {
            "id": {"type": "integer", "description": "Increasing; deduplicate on it."},
            "type": {
                "enum": [
                    "store.ready",
                    "store.setup_changed",
                    "store.not_ready",
                    "store.disconnected",
                    "store.needs_reconnect",
                    "store.reconnected",
                ]
            },
            "occurred_at": _TIME,
            "store": {
                "type": "object",
                "required": ["group", "store_code"],
                "properties": {"group": _TEXT, "store_code": _TEXT},
            },
            "data": {"type": "object", "description": "reason, tenant_id, where they apply."},
        },
    },
    "EventPage": {
        "type": "object",
        "required": ["events", "last_id"],
        "properties": {
            "events": {"type": "array", "items": _ref("Event")},
            "last_id": {"type": "integer", "description": "Ask `after` this next time."},
        },
    },
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
            "schemas": _SCHEMAS,
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
                        {"name": "status", "in": "query", "schema": {"enum": _STATUSES}},
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "next_cursor of the previous page.",
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
                        "content": {"application/json": {"schema": _ref("ProblemReport")}},
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
                            "schema": {"type": "integer", "minimum": 0},
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
                    },
                }
            },
        },
    }
