"""The customer's journey through the real ASGI app and the Xero emulator, in memory."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import session_factory, transaction
from storage.models import StoreLink, XeroConnection, XeroGrant
from tests.domain_helpers import AGENT, registered
from tests.web_fixtures import (
    XERO,
    Organisations,
    csrf_of,
    local,
    query_of,
    return_from_xero,
    start_consent,
)


async def test_the_whole_journey_through_the_pages(
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    xero_browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    customer = await registered(web_deps, cloudpos, stores=3)
    link = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=["S001", "S002"], actor=AGENT
    )
    link_path = local(link.url)

    landing = await browser.get(link_path)
    assert landing.status_code == 200
    assert "Acme" in landing.text
    assert "acme store 1" in landing.text
    assert "acme store 3" not in landing.text
    assert "Ready to connect" in landing.text

    started = await browser.post(link_path, data={"csrf_token": csrf_of(landing)})
    assert started.status_code == 303
    authorise_url = started.headers["location"]
    assert authorise_url.startswith(f"{XERO}/identity/connect/authorize?")

    consent_page = await xero_browser.get(local(authorise_url))
    assert consent_page.status_code == 200
    assert "Acme Ltd" in consent_page.text
    assert "Acme Starter" in consent_page.text
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', consent_page.text))
    allowed = await xero_browser.post(
        "/identity/connect/authorize",
        data={
            **hidden,
            "user": "xero-user-1",
            "tenant": [organisations.standard.tenant_id, organisations.starter.tenant_id],
            "action": "allow",
        },
    )
    assert allowed.status_code == 303
    callback = allowed.headers["location"]
    assert callback.startswith("http://bot.test/xero/callback?")

    returned = await browser.get(local(callback))
    assert returned.status_code == 303, returned.text
    choose_path = f"{link_path}/organisation"
    assert returned.headers["location"] == choose_path

    choose = await browser.get(choose_path)
    assert choose.status_code == 200
    assert "Acme Starter — Starter (Starter plan — trial, starter and demo" in choose.text
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>\s*([^<—]+?) —', choose.text))
    standard_id = next(value for value, name in options.items() if name == "Acme Ltd")
    confirmed = await browser.post(
        choose_path,
        data={"csrf_token": csrf_of(choose), "store:S001": standard_id, "store:S002": standard_id},
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"{link_path}/done"

    done = await browser.get(f"{link_path}/done")
    assert done.status_code == 200
    assert re.search(r"Acme Ltd.*acme store 1.*acme store 2", done.text, re.S)
    assert "acme store 3" not in done.text  # not this link's: the page shows the link's own

    async with transaction(session_factory(engine)) as session:
        links = (await session.scalars(select(StoreLink).where(StoreLink.active))).all()
        connection = await session.scalar(
            select(XeroConnection).where(XeroConnection.tenant_name == "Acme Ltd")
        )
        grant = await session.scalar(select(XeroGrant))
    assert connection is not None
    assert sorted(link.store_id for link in links) == [1, 2]
    assert {link.connection_id for link in links} == {connection.id}
    assert grant is not None
    assert grant.user_email == "olive@acme.test"
    assert [c.tenant_name for c in emulator.connections] == ["Acme Ltd"]
    issued = emulator.token_requests[0]
    assert issued["grant_type"] == "authorization_code"
    assert "eyJ" not in grant.access_token_encrypted[:3]
    actions = [
        entry.action for entry in await domain.audit.history(web_deps, customer_id=customer.id)
    ]
    assert actions[:7] == [
        "organisation.removed_unused",  # Acme Starter: allowed, but no store uses it
        "consent.completed",
        "store.linked",
        "store.linked",
        "consent.authorised",
        "consent.started",
        "consent.issued",
    ]


async def test_two_stores_to_two_organisations_in_one_consent(
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> None:
    customer = await registered(web_deps, cloudpos)
    link = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=["S001", "S002"], actor=AGENT
    )
    authorise = await start_consent(browser, local(link.url))
    await return_from_xero(
        browser, emulator, authorise, [organisations.standard, organisations.premium]
    )
    choose = await browser.get(f"{local(link.url)}/organisation")
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>\s*([^<—]+?) —', choose.text))
    ids = {name: value for value, name in options.items()}

    await browser.post(
        f"{local(link.url)}/organisation",
        data={
            "csrf_token": csrf_of(choose),
            "store:S001": ids["Acme Ltd"],
            "store:S002": ids["Acme Trading"],
        },
    )

    summary = await domain.organisations.summary(web_deps, customer_id=customer.id)
    assert [(g.tenant_name, [s.code for s in g.stores]) for g in summary.groups] == [
        ("Acme Ltd", ["S001"]),
        ("Acme Trading", ["S002"]),
    ]
    assert query_of(link.url) == {}
