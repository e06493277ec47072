"""Rotating TOKEN_ENCRYPTION_KEYS while customers are mid-way: nothing they hold breaks."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.app import create_app
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.maintenance import rotate_keys
from bot.services import xero_client
from bot.settings import generate_encryption_key
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import session_factory
from tests.conftest import ENCRYPTION_KEY, Clock, _no_sleep, cloudpos_client
from tests.domain_helpers import AGENT, registered
from tests.web_fixtures import (
    BOT,
    Organisations,
    csrf_of,
    local,
    return_from_xero,
    start_consent,
    web_settings,
)

NEW = generate_encryption_key()

Replica = Callable[[tuple[str, ...]], AbstractAsyncContextManager[httpx.AsyncClient]]


def replica_factory(
    engine: AsyncEngine,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    cookies: httpx.Cookies,
) -> Replica:
    """A server started with the given keys, and the customer's browser (same cookies) on it."""

    @asynccontextmanager
    async def replica(keys: tuple[str, ...]) -> AsyncIterator[httpx.AsyncClient]:
        settings = dataclasses.replace(web_settings(), token_encryption_keys=keys)
        deps = Dependencies(
            sessions=session_factory(engine),
            vault=Vault(keys),
            cloudpos=cloudpos_client(cloudpos),
            xero=xero_client(settings, transport=emulator.transport(), sleep=_no_sleep),
            public_base_url=BOT,
            clock=clock,
        )
        app = create_app(settings, deps=deps)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BOT, cookies=cookies
        ) as client:
            yield client
            cookies.update(client.cookies)

    return replica


async def test_a_consent_in_progress_survives_rotation_and_dropping_the_old_key(
    engine: AsyncEngine,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    web_deps: Dependencies,
) -> None:
    replica = replica_factory(engine, clock, cloudpos, emulator, httpx.Cookies())
    customer = await registered(web_deps, cloudpos, stores=1)
    link = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=None, actor=AGENT
    )
    async with replica((ENCRYPTION_KEY,)) as browser:
        authorise = await start_consent(browser, local(link.url))

    await rotate_keys(session_factory(engine), Vault([NEW, ENCRYPTION_KEY]))

    async with replica((NEW,)) as browser:
        returned = await return_from_xero(browser, emulator, authorise, [organisations.standard])
        assert returned.status_code == 303, returned.text
        assert returned.headers["location"] == f"{local(link.url)}/organisation"
        choose = await browser.get(returned.headers["location"])
    assert choose.status_code == 200
    assert "Acme Ltd" in choose.text


async def test_forms_opened_before_a_new_key_is_put_first_are_still_accepted(
    engine: AsyncEngine,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    web_deps: Dependencies,
) -> None:
    replica = replica_factory(engine, clock, cloudpos, emulator, httpx.Cookies())
    customer = await registered(web_deps, cloudpos, stores=1)
    link = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=None, actor=AGENT
    )
    async with replica((ENCRYPTION_KEY,)) as browser:
        landing = await browser.get(local(link.url))
    form = {"csrf_token": csrf_of(landing)}

    async with replica((NEW, ENCRYPTION_KEY)) as browser:
        started = await browser.post(local(link.url), data=form)
    assert started.status_code == 303, started.text

    async with replica((NEW,)) as browser:
        refused = await browser.post(local(link.url), data=form)
    assert refused.status_code == 403
    assert "Open your link again" in refused.text
