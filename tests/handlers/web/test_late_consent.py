"""A consent that comes back from Xero on a link no longer usable leaves nothing at Xero.

Xero creates the connections when the customer presses Allow; if the link expired (or was
withdrawn) meanwhile, the bot records nothing, so it must remove them again and say so.
"""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.results import ConsentLink
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.conftest import Clock
from tests.domain_helpers import AGENT, registered
from tests.handlers.web.test_failures import domain_rows, visible_text
from tests.web_fixtures import Organisations, csrf_of, local, return_from_xero, start_consent


@pytest.fixture
async def link(web_deps: Dependencies, cloudpos: CloudPosEmulator) -> ConsentLink:
    customer = await registered(web_deps, cloudpos, stores=2)
    return await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=["S002"], actor=AGENT
    )


def at_xero(emulator: XeroEmulator) -> list[str]:
    return sorted(c.tenant_name for c in emulator.connections)


async def test_a_link_that_expired_while_at_xero_leaves_nothing_there(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    web_deps: Dependencies,
) -> None:
    clock.advance(hours=71, minutes=50)
    authorise = await start_consent(browser, local(link.url))
    before = await domain_rows(engine)
    clock.advance(minutes=15)  # the link expires; the sign-in (30 minutes) has not

    page = await return_from_xero(
        browser, emulator, authorise, [organisations.standard, organisations.starter]
    )

    assert page.status_code == 410
    assert (
        "This link expired before Xero sent you back, so nothing was connected, and the "
        "access you allowed at Xero to Acme Ltd, Acme Starter has been removed again. "
        "Ask your helpdesk contact for a new link." in visible_text(page)
    )
    assert at_xero(emulator) == []
    assert await domain_rows(engine) == before
    latest = (await domain.audit.history(web_deps, customer_id=1))[0]
    assert latest.action == "consent.discarded"
    assert (latest.detail["reason"], sorted(latest.detail["removed_at_xero"])) == (
        "expired", ["Acme Ltd", "Acme Starter"],
    )  # fmt: skip
    assert "code" not in " ".join(latest.detail)  # no code or token in the audit


async def test_an_organisation_stores_already_use_stays_connected_at_xero(
    link: ConsentLink,
    web_deps: Dependencies,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    clock: Clock,
) -> None:
    """S001 is connected to Acme Ltd; a late consent re-allowing it must not disconnect it."""
    first = await domain.links.issue(web_deps, customer_id=1, store_codes=["S001"], actor=AGENT)
    path = local(first.url)
    await return_from_xero(browser, emulator, await start_consent(browser, path),
                           [organisations.standard])  # fmt: skip
    choose = await browser.get(f"{path}/organisation")
    standard = re.search(r'<option value="(\d+)"', choose.text)
    assert standard is not None
    form = {"csrf_token": csrf_of(choose), "store:S001": standard.group(1)}
    assert (await browser.post(f"{path}/organisation", data=form)).status_code == 303
    clock.advance(hours=71, minutes=50)
    authorise = await start_consent(browser, local(link.url))
    clock.advance(minutes=15)

    page = await return_from_xero(
        browser, emulator, authorise, [organisations.standard, organisations.premium]
    )

    assert page.status_code == 410
    assert "access you allowed at Xero to Acme Trading has been removed" in visible_text(page)
    assert at_xero(emulator) == ["Acme Ltd"]
    summary = await domain.organisations.summary(web_deps, customer_id=1)
    assert [(g.tenant_name, [s.code for s in g.stores]) for g in summary.groups] == [
        ("Acme Ltd", ["S001"])
    ]


async def test_a_link_withdrawn_while_at_xero_leaves_nothing_there(
    link: ConsentLink,
    web_deps: Dependencies,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> None:
    authorise = await start_consent(browser, local(link.url))
    await domain.links.revoke(web_deps, consent_request_id=link.consent_request_id, actor=AGENT)

    page = await return_from_xero(browser, emulator, authorise, [organisations.standard])

    assert page.status_code == 410
    assert "This link was withdrawn while you were at Xero, so nothing was connected" in (
        visible_text(page)
    )
    assert at_xero(emulator) == []


async def test_when_xero_will_not_remove_them_the_customer_is_told_what_to_do(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    web_deps: Dependencies,
) -> None:
    clock.advance(hours=71, minutes=50)
    authorise = await start_consent(browser, local(link.url))
    clock.advance(minutes=15)
    before = await domain_rows(engine)
    emulator.fail_next("delete", status=503, times=4)  # every attempt the client makes

    page = await return_from_xero(browser, emulator, authorise, [organisations.standard])

    text = visible_text(page)
    assert page.status_code == 410
    assert "nothing was connected, but the access you allowed at Xero could not be removed" in text
    assert "remove this app, or tell your helpdesk contact" in text
    assert at_xero(emulator) == ["Acme Ltd"]
    assert await domain_rows(engine) == before
    latest = (await domain.audit.history(web_deps, customer_id=1))[0]
    assert latest.action == "consent.discarded"
    assert latest.detail["error"]
