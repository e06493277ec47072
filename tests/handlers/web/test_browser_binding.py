"""After Xero, the pages belong to the browser that consented, and the outcome is short-lived."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot import domain
from bot.domain import Dependencies
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.conftest import Clock
from tests.domain_helpers import AGENT, registered
from tests.handlers.web.test_failures import domain_rows
from tests.web_fixtures import BOT, Organisations, csrf_of, local, return_from_xero, start_consent

OTHER_BROWSER = "Open this page in the browser you connected with"


@pytest.fixture
async def other_browser(web_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Someone else who has the link (forwarded e-mail, shared screen, browser history)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app), base_url=BOT
    ) as client:
        yield client


async def consented_link(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    *,
    stores: list[str],
) -> str:
    customer = await registered(deps, cloudpos, stores=3)
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=stores, actor=AGENT)
    path = local(link.url)
    returned = await return_from_xero(
        browser, emulator, await start_consent(browser, path), [organisations.standard]
    )
    assert returned.status_code == 303, returned.text
    return path


async def confirm(browser: httpx.AsyncClient, path: str) -> httpx.Response:
    choose = await browser.get(f"{path}/organisation")
    assert choose.status_code == 200, choose.text
    option = re.search(r'<option value="(\d+)"', choose.text)
    assert option is not None, choose.text
    return await browser.post(
        f"{path}/organisation",
        data={"csrf_token": csrf_of(choose), "store:S001": option.group(1)},
    )


async def test_another_browser_with_the_link_cannot_see_or_choose_the_organisations(
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    path = await consented_link(
        web_deps, cloudpos, emulator, organisations, browser, stores=["S001"]
    )
    peek = await other_browser.get(f"{path}/organisation")
    assert peek.status_code == 403
    assert OTHER_BROWSER in peek.text
    assert "Acme Ltd" not in peek.text

    landing = await other_browser.get(path)  # a CSRF token for this browser's own cookie
    before = await domain_rows(engine)
    forged = await other_browser.post(
        f"{path}/organisation", data={"csrf_token": csrf_of(landing), "store:S001": "1"}
    )
    assert forged.status_code == 403
    assert OTHER_BROWSER in forged.text
    assert await domain_rows(engine) == before

    confirmed = await confirm(browser, path)
    assert confirmed.status_code == 303, confirmed.text
    assert (await other_browser.get(f"{path}/done")).status_code == 403
    done = await browser.get(f"{path}/done")
    assert done.status_code == 200
    assert "Acme Ltd" in done.text


async def test_the_done_page_shows_only_the_links_stores_and_for_a_day(
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    clock: Clock,
) -> None:
    path = await consented_link(
        web_deps, cloudpos, emulator, organisations, browser, stores=["S001"]
    )
    assert (await confirm(browser, path)).status_code == 303
    done = await browser.get(f"{path}/done")
    assert done.status_code == 200
    assert "acme store 1" in done.text
    assert "acme store 2" not in done.text
    assert "acme store 3" not in done.text

    clock.advance(hours=23, minutes=59)
    assert (await browser.get(f"{path}/done")).status_code == 200
    clock.advance(minutes=2)
    gone = await browser.get(f"{path}/done")
    assert gone.status_code == 410
    assert "no longer shown" in gone.text
    assert "acme store 1" not in gone.text
