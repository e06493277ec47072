"""Turning domain results and errors into HTML pages."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from bot.common.redaction import redact
from bot.domain.errors import (
    ConsentLinkUnusable,
    DomainError,
    ExternalServiceError,
    NotFound,
    OAuthStateRejected,
    OtherBrowser,
)

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(
    request: Request, template: str, *, title: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, {"title": title, "status": status, **context}, status_code=status
    )


def message_page(
    request: Request,
    *,
    title: str,
    message: str,
    status: int,
    action_url: str | None = None,
    action_label: str = "",
    reference: str | None = None,
) -> HTMLResponse:
    return page(
        request,
        "message.html",
        title=title,
        status=status,
        message=message,
        action_url=action_url,
        action_label=action_label,
        reference=reference,
    )


async def domain_error_page(request: Request, error: Exception) -> HTMLResponse:
    """Every rule the domain enforces ends here as a page that says what to do."""
    assert isinstance(error, DomainError)
    title, status = _TITLES.get(type(error), ("Something is not right", 400))
    if isinstance(error, ConsentLinkUnusable):
        title, status = ("Link not found", 404) if error.reason == "unknown" else _LINK_GONE
    return message_page(request, title=title, message=error.message, status=status)


async def not_found_page(request: Request, _error: Exception) -> HTMLResponse:
    return message_page(
        request,
        title="Page not found",
        message="There is nothing at this address. Check the link you were sent.",
        status=404,
    )


async def unexpected_error_page(request: Request, error: Exception) -> HTMLResponse:
    """A bug: logged with a reference the customer can quote; no details on the page."""
    reference = secrets.token_hex(4)
    log.error("unexpected error %s on %s %s", reference, request.method,
              redact(request.url.path), exc_info=error)  # fmt: skip
    return message_page(
        request,
        title="Something went wrong",
        message="The page could not be shown. Try again in a few minutes; if it keeps "
        "happening, tell your helpdesk contact the reference below.",
        status=500,
        reference=reference,
    )


_LINK_GONE = ("This link can no longer be used", 410)
_TITLES: dict[type[DomainError], tuple[str, int]] = {
    NotFound: ("Not found", 404),
    OAuthStateRejected: ("This sign-in cannot be completed", 400),
    OtherBrowser: ("Open this page in the browser you connected with", 403),
    ExternalServiceError: ("Xero is not answering", 502),
}
