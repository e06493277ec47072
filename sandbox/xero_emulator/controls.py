"""The status page's switches: inject faults (429, 5xx, slow), disconnect the app, and change
an organisation's books (archive an account or a contact, change a tax rate's status).

They exist so a person in the sandbox can see what the bot does when Xero misbehaves, when
the customer removes the app at Xero (Settings → Connected Apps → Disconnect) or when the
bookkeeper tidies the books under a store's posting set-up, without writing a test. Plain
HTML forms, no script: the page stays usable under any CSP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from .answers import root
from .faults import ENDPOINTS, Endpoint
from .state import EmulatorState

# What the fault form offers: (status, label). 200 only delays the answer.
FAULT_STATUSES = (
    (429, "429 Too Many Requests"),
    (500, "500 Internal Server Error"),
    (502, "502 Bad Gateway"),
    (503, "503 Service Unavailable"),
    (200, "no error, only slow"),
)
Action = Callable[[dict[str, str]], Awaitable[None]]
MAX_DELAY = 60.0
MAX_TIMES = 100


class BadForm(ValueError):
    """A form the page would never send; answered 400 with the message."""


def _whole(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadForm(f"{name} must be a whole number") from None
    if not low <= number <= high:
        raise BadForm(f"{name} must be from {low} to {high}")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value or "0")
    except ValueError:
        raise BadForm("delay must be a number of seconds") from None
    if not 0 <= number <= MAX_DELAY:  # also refuses nan
        raise BadForm(f"delay must be from 0 to {MAX_DELAY:g} seconds")
    return number


def _same_origin(request: Request) -> bool:
    """Browsers say where a form came from in Sec-Fetch-Site, or else in Origin. Origin is
    "null" under the sandbox's `Referrer-Policy: no-referrer`, so it cannot be required.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin in (None, "null") or urlsplit(origin).netloc == request.url.netloc


PLAN_CLASSES = ("STANDARD", "PREMIUM", "STARTER", "TRIAL", "DEMO")
"""What the page offers: plans that can be integrated, and ones that cannot."""


class Controls:
    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    async def add_fault(self, request: Request) -> Response:
        async def act(form: dict[str, str]) -> None:
            endpoint = form.get("endpoint", "")
            if endpoint not in ENDPOINTS:
                raise BadForm(f"endpoint must be one of {sorted(ENDPOINTS)}")
            status = _whole(form.get("status", ""), "status", 100, 599)
            if status not in dict(FAULT_STATUSES):
                raise BadForm("status must be one the form offers")
            retry_after = form.get("retry_after", "").strip()
            self._state.fail_next(
                cast("Endpoint", endpoint),
                status=status,
                times=_whole(form.get("times", "1"), "times", 1, MAX_TIMES),
                retry_after=_whole(retry_after, "Retry-After", 0, 3600) if retry_after else None,
                delay=_seconds(form.get("delay", "")),
            )

        return await self._handle(request, act)

    async def clear_faults(self, request: Request) -> Response:
        async def act(_form: dict[str, str]) -> None:
            self._state.clear_faults()

        return await self._handle(request, act)

    async def disconnect(self, request: Request) -> Response:
        async def act(form: dict[str, str]) -> None:
            if not self._state.disconnect_organisation(form.get("tenant_id", "")):
                raise BadForm("the app is not connected to that organisation")

        return await self._handle(request, act)

    async def change_plan(self, request: Request) -> Response:
        async def act(form: dict[str, str]) -> None:
            plan = form.get("plan_class", "")
            if plan not in PLAN_CLASSES:
                raise BadForm(f"plan_class must be one of {list(PLAN_CLASSES)}")
            if not self._state.change_plan(form.get("tenant_id", ""), plan):
                raise BadForm("there is no such organisation")

        return await self._handle(request, act)

    async def archive_account(self, request: Request) -> Response:
        async def act(form: dict[str, str]) -> None:
            self._state.archive_account(form.get("tenant_id", ""), form.get("code", ""))

        return await self._handle(request, act, to_books=True)

    async def set_tax_rate_status(self, request: Request) -> Response:
        async def act(form: dict[str, str]) -> None:
            self._state.set_tax_rate_status(
                form.get("tenant_id", ""), form.get("tax_type", ""), form.get("status", "")
            )

        return await self._handle(request, act, to_books=True)

    async def archive_contact(self, request: Request) -> Response:
        async def act(form: dict[str, str]) -> None:
            self._state.archive_contact(form.get("tenant_id", ""), form.get("contact_id", ""))

        return await self._handle(request, act, to_books=True)

    async def _handle(self, request: Request, act: Action, *, to_books: bool = False) -> Response:
        """Same-origin forms only (another site cannot press the switches), then back home,
        or `to_books` back to the books page of the form's organisation."""
        if not _same_origin(request):
            return PlainTextResponse("Forbidden: the form came from another site.", 403)
        async with request.form() as raw:
            form = {key: value for key, value in raw.items() if isinstance(value, str)}
        try:
            await act(form)
        except (BadForm, ValueError) as error:
            return PlainTextResponse(f"Bad request: {error}", 400)
        if to_books:
            tenant_id = quote(form.get("tenant_id", ""), safe="")
            return RedirectResponse(f"{root(request)}/books/{tenant_id}", 303)
        return RedirectResponse(root(request) + "/", 303)
