"""The emulator's Starlette app: identity and API routes, plus a status page at "/" and each
organisation's books at "/books/{tenant_id}".

Every URL the emulator renders is built from `root_path`, so the app works mounted under a
prefix and behind any host name. Tokens never reach a log line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from .accounting import AccountingApi, matches
from .answers import Sleep, root
from .api import Api, xero_datetime
from .books import ARCHIVED, TAX_RATE_STATUSES
from .controls import FAULT_STATUSES, PLAN_CLASSES, Controls
from .faults import ACCOUNTING_ENDPOINTS, ENDPOINTS, Endpoint
from .identity import AUTHORIZE_PATH, REVOKE_PATH, TOKEN_PATH, Identity
from .state import EmulatorState
from .traffic import LOST_HEADER

Handler = Callable[[Request], Awaitable[Response]]
BOOKS_PAGE_CONTACTS = 50
"""The most contacts the books page lists; a search narrows them."""


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=PackageLoader(__package__, "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


class _StatusPage:
    def __init__(self, state: EmulatorState, templates: Jinja2Templates) -> None:
        self._state = state
        self._templates = templates

    async def home(self, request: Request) -> Response:
        base = f"{request.url.scheme}://{request.url.netloc}{root(request)}"
        state = self._state
        users = {user.user_id: user for user in state.users}
        organisations = {org.tenant_id: org for org in state.organisations}
        context = {
            "app_name": state.app_name,
            "client_id": state.client_id,
            "settings": {
                "XERO_AUTHORIZE_URL": base + AUTHORIZE_PATH,
                "XERO_TOKEN_URL": base + TOKEN_PATH,
                "XERO_REVOKE_URL": base + REVOKE_PATH,
                "XERO_API_URL": base + "/api",
            },
            "users": list(users.values()),
            "organisations": organisations,
            "connections": state.connections,
            "users_by_id": users,
            "format_time": xero_datetime,
            "faults": state.pending_faults(),
            "endpoint_groups": (
                ("Identity and connections", sorted(ENDPOINTS - ACCOUNTING_ENDPOINTS)),
                ("Accounting API", sorted(ACCOUNTING_ENDPOINTS)),
            ),
            "fault_statuses": FAULT_STATUSES,
            "controls": root(request) + "/controls",
            "books": root(request) + "/books",
            "plan_classes": PLAN_CLASSES,
        }
        return self._templates.TemplateResponse(request, "home.html", context)

    async def books(self, request: Request) -> Response:
        """One organisation's books with their switches; `q` searches the contacts."""
        tenant_id = request.path_params["tenant_id"]
        organisation = next(
            (o for o in self._state.organisations if o.tenant_id == tenant_id), None
        )
        if organisation is None:
            return PlainTextResponse("Not found: there is no such organisation.", 404)
        search = request.query_params.get("q", "").strip()
        books = self._state.books(tenant_id)
        found = [c for c in books.contacts if not search or matches(c, search)]
        context = {
            "organisation": organisation,
            "books": books,
            "search": search,
            "contacts": found[:BOOKS_PAGE_CONTACTS],
            "more_contacts": len(found) > BOOKS_PAGE_CONTACTS,
            "archived_contacts": sum(c.status == ARCHIVED for c in books.contacts),
            "tax_rate_statuses": TAX_RATE_STATUSES,
            "controls": root(request) + "/controls",
            "home": root(request) + "/",
        }
        return self._templates.TemplateResponse(request, "books.html", context)


def _observed(state: EmulatorState, endpoint: Endpoint, handler: Handler) -> Handler:
    """`handler`, counted and held as the tests ask, its answer marked if it is to be lost."""

    async def handle(request: Request) -> Response:
        await state.arrive(endpoint)
        response = await handler(request)
        if state.take_lost(endpoint):
            response.headers[LOST_HEADER] = "1"
        return response

    return handle


def build_app(state: EmulatorState, *, sleep: Sleep = asyncio.sleep) -> Starlette:
    templates = _templates()
    identity, api = Identity(state, sleep, templates), Api(state, sleep)
    accounting = AccountingApi(state, sleep)
    reads: tuple[tuple[str, Endpoint, Handler], ...] = (
        ("Accounts", "accounts", accounting.accounts),
        ("TaxRates", "tax_rates", accounting.tax_rates),
        ("TrackingCategories", "tracking", accounting.tracking_categories),
        ("Contacts", "contacts", accounting.contacts),
        ("Contacts/{contact_id}", "contact", accounting.contact),
    )
    status, controls = _StatusPage(state, templates), Controls(state)

    def observed(endpoint: Endpoint, handler: Handler) -> Handler:
        return _observed(state, endpoint, handler)

    return Starlette(
        routes=[
            Route("/", status.home, methods=["GET"]),
            Route("/controls/faults", controls.add_fault, methods=["POST"]),
            Route("/controls/faults/clear", controls.clear_faults, methods=["POST"]),
            Route("/controls/disconnect", controls.disconnect, methods=["POST"]),
            Route("/controls/plan", controls.change_plan, methods=["POST"]),
            Route("/controls/books/account", controls.archive_account, methods=["POST"]),
            Route("/controls/books/tax-rate", controls.set_tax_rate_status, methods=["POST"]),
            Route("/controls/books/contact", controls.archive_contact, methods=["POST"]),
            Route("/books/{tenant_id}", status.books, methods=["GET"]),
            Route(AUTHORIZE_PATH, identity.authorize_page, methods=["GET"]),
            Route(AUTHORIZE_PATH, identity.authorize_submit, methods=["POST"]),
            Route(TOKEN_PATH, observed("token", identity.token), methods=["POST"]),
            Route(REVOKE_PATH, observed("revoke", identity.revoke), methods=["POST"]),
            Route(
                "/api/connections",
                observed("connections", api.list_connections),
                methods=["GET"],
            ),
            Route(
                "/api/connections/{connection_id}",
                observed("delete", api.delete_connection),
                methods=["DELETE"],
            ),
            Route(
                "/api/api.xro/2.0/Organisation",
                observed("organisation", api.organisation),
                methods=["GET"],
            ),
            *(
                Route(f"/api/api.xro/2.0/{path}", observed(endpoint, handler), methods=["GET"])
                for path, endpoint, handler in reads
            ),
        ]
    )
