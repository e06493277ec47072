"""The component schemas of the API's OpenAPI description (handlers/api/openapi.py): what
each answer's body holds."""

from __future__ import annotations

from typing import Any

from bot.domain.sync import SyncStatus
from bot.domain.sync_events import StoreEvent
from bot.domain.sync_problems import MAX_DETAIL, CheckOutcome, ProblemKind

STATUSES = [status.value for status in SyncStatus]
_TIME = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
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
            "store_status": {"enum": STATUSES, "description": "Why no token (409)."},
            "reference": {"type": "string", "description": "Quote it to the helpdesk (500)."},
            "last_id": {"type": "integer", "description": "Follow the feed from here (410)."},
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
            "payments": {"type": "array", "items": ref("Payment")},
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
            "status": {"enum": STATUSES, "description": "ready: connected and marked ready."},
            "ready_at": _nullable(_TIME),
            "tenant_id": _nullable(_TEXT),
            "organisation_name": _nullable(_TEXT),
            "setup": _nullable(ref("Setup")),
            "attention": _nullable({"type": "string", "description": "Why it needs the helpdesk."}),
            "updated_at": _TIME,
        },
    },
    "StorePage": {
        "type": "object",
        "required": ["stores", "next_cursor"],
        "properties": {
            "stores": {"type": "array", "items": ref("Store")},
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
            "check": {"enum": [outcome.value for outcome in CheckOutcome]},
            "status": {"enum": STATUSES, "description": "The store's status after the check."},
            "broken": {"type": "boolean", "description": "The check found it broken now."},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "type", "occurred_at", "store", "data"],
        "properties": {
            "id": {"type": "integer", "description": "Increasing; deduplicate on it."},
            "type": {"enum": [kind.value for kind in StoreEvent]},
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
            "events": {"type": "array", "items": ref("Event")},
            "last_id": {"type": "integer", "description": "Ask `after` this next time."},
        },
    },
}
