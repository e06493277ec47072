"""Short ways to put a customer through the steps that other tests start from."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.domain import ConnectionService
from bot.domain.results import ConsentAttempt, ConsentView, CustomerView
from tests.fakes import FakeCloudPos, FakeXero

AGENT = "slack:U001"
CUSTOMER = "customer"
BROWSER = "browser-cookie-1"


async def registered(
    service: ConnectionService, cloudpos: FakeCloudPos, *, name: str = "Acme", stores: int = 3
) -> CustomerView:
    key = f"key-{name.replace(' ', '-')}"
    cloudpos.add(key, group=name.lower(), stores=stores)
    return await service.register_customer(name=name, api_key=key, actor=AGENT)


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


async def consented(
    service: ConnectionService,
    xero: FakeXero,
    customer: CustomerView,
    tenants: list[str],
    *,
    codes: list[str] | None = None,
    user: str = "xero-user-1",
) -> tuple[str, ConsentView]:
    """Issue a link for `codes` and complete consent at Xero for `tenants`; returns the token."""
    link = await service.issue_consent_link(customer_id=customer.id, store_codes=codes, actor=AGENT)
    token = token_of(link.url)
    view = await authorise(service, token, xero.consent(user, tenants, email=f"{user}@example.com"))
    return token, view


async def authorise(service: ConnectionService, token: str, code: str) -> ConsentView:
    """Press Connect to Xero on the link, and come back from Xero with `code`."""
    attempt = await callback(service, token)
    return await service.complete_consent(attempt=attempt, code=code)


async def callback(service: ConnectionService, token: str) -> ConsentAttempt:
    """Start consent from a browser and verify the `state` Xero sends back to it."""
    url = await service.start_consent(token=token, browser_id=BROWSER)
    state = parse_qs(urlsplit(url).query)["state"][0]
    return await service.verify_callback(state=state, browser_id=BROWSER)


def option_id(view: ConsentView, name: str) -> int:
    return next(o.connection_id for o in view.organisations if o.tenant_name == name)
