"""Every API error as `application/problem+json` (RFC 9457): a type, a title, the status
and a detail written for whoever reads the sync service's logs. Never a traceback."""

from __future__ import annotations

import json
import logging
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.common.redaction import redact
from bot.domain.errors import (
    Conflict,
    DomainError,
    ExternalServiceError,
    InvalidRequest,
    NotFound,
    XeroGrantRevoked,
)
from bot.domain.sync import NotConnected, SyncStatus
from bot.domain.sync_events import EventsDeleted

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 30
NEEDS_RECONNECT = "urn:xero-bot:problem:needs-reconnect"
NOT_CONNECTED = "urn:xero-bot:problem:not-connected"
INVALID = "urn:xero-bot:problem:invalid-request"


class ApiProblem(Exception):
    """Raised by an endpoint to answer with a problem."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extensions: object,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.headers = headers or {}
        self.extensions = extensions


def invalid(detail: str, *, field: str) -> ApiProblem:
    return ApiProblem(400, "Invalid request", detail, type_=INVALID, field=field)


def problem_response(problem: ApiProblem) -> Response:
    body = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        **problem.extensions,
    }
    return Response(
        json.dumps(body),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-store", **problem.headers},
    )


def from_domain(error: DomainError) -> ApiProblem:
    """The problem a domain error is for the sync service."""
    if isinstance(error, NotConnected):
        reconnect = error.status == SyncStatus.NEEDS_RECONNECT
        return ApiProblem(
            409,
            "Store needs reconnecting" if reconnect else "Store not connected",
            error.message,
            type_=NEEDS_RECONNECT if reconnect else NOT_CONNECTED,
            store_status=error.status.value,
        )
    if isinstance(error, EventsDeleted):
        return ApiProblem(410, "Events deleted", error.message, last_id=error.last_id)
    if isinstance(error, XeroGrantRevoked):
        return ApiProblem(
            409,
            "Store needs reconnecting",
            error.message,
            type_=NEEDS_RECONNECT,
            store_status=SyncStatus.NEEDS_RECONNECT.value,
        )
    if isinstance(error, ExternalServiceError):
        if error.retryable:
            return ApiProblem(
                503,
                "Xero unavailable",
                error.message,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return ApiProblem(502, "Xero refused", error.message)
    if isinstance(error, NotFound):
        return ApiProblem(404, "Not found", error.message)
    if isinstance(error, Conflict):
        return ApiProblem(409, "Conflict", error.message)
    if isinstance(error, InvalidRequest):
        return invalid(error.message, field=error.field or "")
    return ApiProblem(400, "Request refused", error.message)


async def http_problem(request: Request, error: Exception) -> Response:
    """Starlette's own 404 and 405 (unknown route, wrong method) as problems."""
    assert isinstance(error, HTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    details = {
        404: "There is no such API route: GET /api/v1/openapi.json lists them.",
        405: f"{request.method} is not allowed here: GET /api/v1/openapi.json lists the methods.",
    }
    status = error.status_code
    return problem_response(
        ApiProblem(
            status,
            titles.get(status, "Request refused"),
            details.get(status, str(error.detail)),
            headers=dict(error.headers or {}),
        )
    )


async def unexpected_problem(request: Request, error: Exception) -> Response:
    """A bug: logged with a reference the caller can quote; nothing else is said."""
    reference = secrets.token_hex(4)
    log.error("unexpected API error %s on %s %s", reference, request.method,
              redact(request.url.path), exc_info=error)  # fmt: skip
    return problem_response(
        ApiProblem(
            500,
            "Internal error",
            f"The bot failed to answer (reference {reference}). Try again; if it keeps "
            "happening, give the helpdesk the reference.",
            reference=reference,
        )
    )
