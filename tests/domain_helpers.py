"""Short ways to put a customer through the steps that other tests start from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.domain.results import ConsentAttempt, ConsentView, CustomerView
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import EmulatedOrganisation, XeroEmulator
from storage.engine import transaction
from storage.models import Base, XeroGrant
from tests.conftest import ENCRYPTION_KEY

AGENT = "slack:U001"
CUSTOMER = "customer"
BROWSER = "browser-cookie-1"


async def registered(
    deps: Dependencies, cloudpos: CloudPosEmulator, *, name: str = "Acme", stores: int = 3
) -> CustomerView:
    key = f"key-{name.replace(' ', '-')}"
    cloudpos.add_account(key, group=name.lower(), stores=stores)
    return await domain.customers.register(deps, name=name, api_key=key, actor=AGENT)


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def xero_user(emulator: XeroEmulator, user: str, tenants: Sequence[EmulatedOrganisation]) -> str:
    """`user` at Xero (made, as {user}@example.com with no name, if new), allowed to
    authorise `tenants`."""
    if emulator.user(user) is None:
        emulator.add_user(user_id=user, email=f"{user}@example.com", name="")
    emulator.invite(user, [tenant.tenant_id for tenant in tenants])
    return user


def allow_at_xero(
    emulator: XeroEmulator,
    authorize_url: str,
    tenants: Sequence[EmulatedOrganisation],
    *,
    user: str = "xero-user-1",
) -> str:
    """`user` allows `tenants` on the consent page `authorize_url`: Xero's code."""
    query = {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
    back = emulator.authorise(
        user_id=xero_user(emulator, user, tenants),
        tenant_ids=[tenant.tenant_id for tenant in tenants],
        redirect_uri=query["redirect_uri"],
        state=query["state"],
        scope=query.get("scope", ""),
        code_challenge=query.get("code_challenge", ""),
        code_challenge_method=query.get("code_challenge_method", ""),
    )
    return parse_qs(urlsplit(back).query)["code"][0]


def connected_elsewhere(
    emulator: XeroEmulator, tenants: Sequence[EmulatedOrganisation], *, user: str = "xero-user-1"
) -> None:
    """`user` connected the app to `tenants` in an earlier consent the bot never saw."""
    emulator.authorise(
        user_id=xero_user(emulator, user, tenants),
        tenant_ids=[tenant.tenant_id for tenant in tenants],
        redirect_uri="https://elsewhere.test/callback",
        state="earlier",
    )


async def allowed(
    deps: Dependencies,
    emulator: XeroEmulator,
    token: str,
    tenants: Sequence[EmulatedOrganisation],
    *,
    user: str = "xero-user-1",
) -> tuple[ConsentAttempt, str]:
    """Press Connect to Xero on the link, allow `tenants` there and come back: the verified
    callback and the code Xero sent with it."""
    url = await domain.consent.start(deps, token=token, browser_id=BROWSER)
    code = allow_at_xero(emulator, url, tenants, user=user)
    state = parse_qs(urlsplit(url).query)["state"][0]
    return await domain.consent.verify_callback(deps, state=state, browser_id=BROWSER), code


async def authorise(
    deps: Dependencies,
    emulator: XeroEmulator,
    token: str,
    tenants: Sequence[EmulatedOrganisation],
    *,
    user: str = "xero-user-1",
) -> ConsentView:
    """Consent on the link for `tenants` at Xero, all the way back to the bot."""
    attempt, code = await allowed(deps, emulator, token, tenants, user=user)
    return await domain.consent.complete(deps, attempt=attempt, code=code)


async def consented(
    deps: Dependencies,
    emulator: XeroEmulator,
    customer: CustomerView,
    tenants: Sequence[EmulatedOrganisation],
    *,
    codes: list[str] | None = None,
    user: str = "xero-user-1",
) -> tuple[str, ConsentView]:
    """Issue a link for `codes` and complete consent at Xero for `tenants`; returns the token."""
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=codes, actor=AGENT)
    token = token_of(link.url)
    view = await authorise(deps, emulator, token, tenants, user=user)
    return token, view


async def callback(deps: Dependencies, token: str) -> ConsentAttempt:
    """Start consent from a browser and verify the `state` Xero sends back to it."""
    url = await domain.consent.start(deps, token=token, browser_id=BROWSER)
    state = parse_qs(urlsplit(url).query)["state"][0]
    return await domain.consent.verify_callback(deps, state=state, browser_id=BROWSER)


def option_id(view: ConsentView, name: str) -> int:
    return next(o.connection_id for o in view.organisations if o.tenant_name == name)


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to show an operation changed nothing."""
    async with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in await connection.execute(table.select())]
            for table in Base.metadata.sorted_tables
        }


async def connected_grant(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> tuple[int, str]:
    """A customer with one store connected; returns the grant id and its refresh token."""
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org")
    token, view = await consented(deps, emulator, customer, [org], codes=["S001"])
    await domain.choice.confirm(
        deps, token=token, choices={"S001": option_id(view, "Org")}, actor=CUSTOMER
    )
    grant = await stored_grant(deps)
    return grant.id, Vault([ENCRYPTION_KEY]).decrypt(grant.refresh_token_encrypted)


async def stored_grant(deps: Dependencies) -> XeroGrant:
    async with transaction(deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
    assert grant is not None
    return grant


async def expire_soon(deps: Dependencies, *, minutes: float) -> None:
    """Bring the stored access token close to expiry (Xero stamps expiry with real time)."""
    async with transaction(deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
        assert grant is not None
        grant.access_token_expires_at = deps.clock() + timedelta(minutes=minutes)


async def find_customer(deps: Dependencies, *, query: str) -> CustomerView:
    """The customer a query names, with their stores: what a card shows."""
    candidate = await domain.customers.identify(deps, query=query)
    return await domain.customers.get(deps, customer_id=candidate.id)


async def connected_organisation(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    *,
    name: str = "Acme",
    organisation: str = "Acme Ltd",
    user: str = "xero-user-1",
    stores: int = 2,
    plan_class: str = "STANDARD",
) -> EmulatedOrganisation:
    """Customer `name` with all its `stores` connected to a new organisation `organisation`
    by Xero user `user` (a grant of its own for each new user)."""
    customer = await registered(deps, cloudpos, name=name, stores=stores)
    org = emulator.add_organisation(organisation, plan_class=plan_class)
    token, view = await consented(deps, emulator, customer, [org], user=user)
    choice = option_id(view, organisation)
    await domain.choice.confirm(
        deps, token=token, choices={store.code: choice for store in customer.stores}, actor=CUSTOMER
    )
    return org
