"""The ASGI app and the Xero emulator wired together in memory, for the customer-page tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.app import create_app
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.services import xero_client
from bot.settings import Settings
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import EmulatedOrganisation, XeroEmulator
from storage.engine import session_factory
from tests.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENCRYPTION_KEY,
    XERO,
    Clock,
    _no_sleep,
    cloudpos_client,
)

BOT = "http://bot.test"


@dataclass
class Organisations:
    standard: EmulatedOrganisation
    premium: EmulatedOrganisation
    starter: EmulatedOrganisation
    trial: EmulatedOrganisation


@pytest.fixture
def organisations(emulator: XeroEmulator) -> Organisations:
    emulator.add_user(user_id="xero-user-1", email="olive@acme.test", name="Olive Owner")
    users = ["xero-user-1"]
    return Organisations(
        standard=emulator.add_organisation("Acme Ltd", plan_class="STANDARD", users=users),
        premium=emulator.add_organisation("Acme Trading", plan_class="PREMIUM", users=users),
        starter=emulator.add_organisation("Acme Starter", plan_class="STARTER", users=users),
        trial=emulator.add_organisation("Acme Trial", plan_class="TRIAL", users=users),
    )


def web_settings(*, rate_limit: int = 1000) -> Settings:
    return Settings(
        public_base_url=BOT,
        token_encryption_keys=(ENCRYPTION_KEY,),
        xero_client_id=CLIENT_ID,
        xero_client_secret=CLIENT_SECRET,
        xero_authorize_url=f"{XERO}/identity/connect/authorize",
        xero_token_url=f"{XERO}/identity/connect/token",
        xero_revoke_url=f"{XERO}/identity/connect/revocation",
        xero_api_url=f"{XERO}/api",
        web_rate_limit_per_minute=rate_limit,
    )


@pytest.fixture
def web_deps(
    engine: AsyncEngine, clock: Clock, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> Dependencies:
    settings = web_settings()
    return Dependencies(
        sessions=session_factory(engine),
        vault=Vault([ENCRYPTION_KEY]),
        cloudpos=cloudpos_client(cloudpos),
        xero=xero_client(settings, transport=emulator.transport(), sleep=_no_sleep),
        public_base_url=BOT,
        clock=clock,
    )


@pytest.fixture
def web_app(web_deps: Dependencies) -> Starlette:
    return create_app(web_settings(), deps=web_deps)


@pytest.fixture
async def browser(web_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The customer's browser on the bot's pages: keeps cookies, does not follow redirects."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app), base_url=BOT
    ) as client:
        yield client


@pytest.fixture
async def xero_browser(emulator: XeroEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """The same customer's browser on the emulated Xero pages."""
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=XERO) as client:
        yield client


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def local(url: str) -> str:
    """Path and query of an absolute URL, to request it from an in-memory app."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


async def start_consent(browser: httpx.AsyncClient, link_path: str) -> dict[str, str]:
    """Open the link, press Connect to Xero: the authorise request's parameters."""
    landing = await browser.get(link_path)
    assert landing.status_code == 200, landing.text
    started = await browser.post(link_path, data={"csrf_token": csrf_of(landing)})
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(f"{XERO}/identity/connect/authorize?")
    return query_of(started.headers["location"])


async def return_from_xero(
    browser: httpx.AsyncClient,
    emulator: XeroEmulator,
    authorise: dict[str, str],
    tenants: list[EmulatedOrganisation],
) -> httpx.Response:
    """Allow `tenants` at the emulator (as its page would) and follow Xero's redirect back."""
    back = emulator.authorise(
        user_id="xero-user-1",
        tenant_ids=[tenant.tenant_id for tenant in tenants],
        redirect_uri=authorise["redirect_uri"],
        state=authorise["state"],
        code_challenge=authorise.get("code_challenge", ""),
        code_challenge_method=authorise.get("code_challenge_method", ""),
    )
    return await browser.get(local(back))
