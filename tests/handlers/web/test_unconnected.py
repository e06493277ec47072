"""The organisation page must not let a customer lose stores by accident (issue 8, item 2).

Through the real ASGI app and the Xero emulator, on SQLite and PostgreSQL: the default
selection, the step that asks before stores are left unconnected, a page afterwards that
tells the truth, and what a consent leaves at Xero.
"""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.results import ConsentLink
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import session_factory, transaction
from storage.models import ConnectionStatus, StoreLink, XeroConnection
from tests.domain_helpers import AGENT, registered
from tests.handlers.web.test_failures import domain_rows, visible_text
from tests.web_fixtures import Organisations, csrf_of, local, return_from_xero, start_consent

FOUR = ["S001", "S002", "S003", "S004"]


@pytest.fixture
async def four_stores(web_deps: Dependencies, cloudpos: CloudPosEmulator) -> ConsentLink:
    customer = await registered(web_deps, cloudpos, stores=4)
    return await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=FOUR, actor=AGENT
    )


async def at_choice(
    browser: httpx.AsyncClient,
    emulator: XeroEmulator,
    link: ConsentLink,
    tenants: list[object],
) -> tuple[str, httpx.Response]:
    """Consent at Xero for `tenants`; the link's path and its organisation page."""
    path = local(link.url)
    returned = await return_from_xero(browser, emulator, await start_consent(browser, path),
                                      tenants)  # type: ignore[arg-type]  # fmt: skip
    assert returned.status_code == 303, returned.text
    page = await browser.get(f"{path}/organisation")
    assert page.status_code == 200
    return path, page


def option_ids(page: httpx.Response) -> dict[str, str]:
    options = re.findall(r'<option value="(\d+)"[^>]*>\s*([^<—]+?) —', page.text)
    return {name: value for value, name in options}


def selected(page: httpx.Response) -> dict[str, str]:
    """Each store's selected option value ("" for "Don't connect this store now")."""
    found = {}
    for code, body in re.findall(r'<select [^>]*name="store:([^"]+)">(.*?)</select>', page.text,
                                 re.S):  # fmt: skip
        chosen = re.search(r'<option value="(\d*)"[^>]*\bselected\b', body)
        found[code] = chosen.group(1) if chosen else ""
    return found


async def active_links(engine: AsyncEngine) -> list[int]:
    async with transaction(session_factory(engine)) as session:
        links = await session.scalars(select(StoreLink).where(StoreLink.active))
        return sorted(link.store_id for link in links)


async def test_every_store_defaults_to_the_only_eligible_organisation(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> None:
    _, page = await at_choice(
        browser, emulator, four_stores, [organisations.standard, organisations.starter]
    )
    standard = option_ids(page)["Acme Ltd"]
    assert selected(page) == dict.fromkeys(FOUR, standard)


async def test_with_two_eligible_organisations_nothing_is_chosen_for_the_customer(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> None:
    _, page = await at_choice(
        browser, emulator, four_stores, [organisations.standard, organisations.premium]
    )
    assert selected(page) == dict.fromkeys(FOUR, "")


async def test_leaving_stores_unconnected_asks_first_and_changes_nothing(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    path, page = await at_choice(
        browser, emulator, four_stores, [organisations.standard, organisations.premium]
    )
    standard = option_ids(page)["Acme Ltd"]
    before = await domain_rows(engine)

    asked = await browser.post(
        f"{path}/organisation",
        data={"csrf_token": csrf_of(page), "store:S001": standard, "store:S002": "",
              "store:S003": "", "store:S004": ""},
    )  # fmt: skip

    text = visible_text(asked)
    assert asked.status_code == 200
    assert "Leave some stores unconnected?" in text
    assert "3 of 4 stores would not be connected: acme store 2 (S002), acme store 3 (S003), "\
        "acme store 4 (S004)" in text  # fmt: skip
    assert "Leave these 3 stores unconnected" in text
    assert 'name="confirm_unconnected" value="yes">' in asked.text  # not ticked for them
    assert selected(asked) == {"S001": standard, "S002": "", "S003": "", "S004": ""}
    assert await domain_rows(engine) == before
    assert (await browser.get(path)).status_code == 200  # the link is not used up


async def test_after_ticking_the_box_the_done_page_tells_the_truth(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    web_deps: Dependencies,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, page = await at_choice(
        browser, emulator, four_stores, [organisations.standard, organisations.premium]
    )
    standard = option_ids(page)["Acme Ltd"]
    form = {"csrf_token": csrf_of(page), "store:S001": standard}
    asked = await browser.post(f"{path}/organisation", data=form)
    assert asked.status_code == 200

    caplog.set_level(logging.INFO, logger="bot.domain.notify")
    confirmed = await browser.post(
        f"{path}/organisation",
        data={**form, "confirm_unconnected": "yes",
              "leave_unconnected": re.findall(r'name="leave_unconnected" value="([^"]+)"',
                                              asked.text)},
    )  # fmt: skip

    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"{path}/done"
    done = await browser.get(f"{path}/done")
    text = visible_text(done)
    assert done.status_code == 200
    assert "<h1>1 of 4 stores connected</h1>" in done.text
    assert "Your stores are connected" not in text
    assert "Not connected with this link: acme store 2 (S002), acme store 3 (S003), "\
        "acme store 4 (S004). This link has now been used, so to connect them, ask your "\
        "helpdesk contact for a new link." in text  # fmt: skip
    assert await active_links(engine) == [1]
    completed = await domain.audit.history(web_deps, customer_id=1)
    entry = next(e for e in completed if e.action == "consent.completed")
    assert entry.detail["left_unconnected"] == ["S002", "S003", "S004"]
    assert "completed: left unconnected: S002, S003, S004" in caplog.text


async def test_the_box_covers_only_the_stores_it_named(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    """Ticked for S003 and S004, but S002 was then set back to "Don't connect": ask again."""
    path, page = await at_choice(
        browser, emulator, four_stores, [organisations.standard, organisations.premium]
    )
    standard = option_ids(page)["Acme Ltd"]
    before = await domain_rows(engine)
    again = await browser.post(
        f"{path}/organisation",
        data={"csrf_token": csrf_of(page), "store:S001": standard, "confirm_unconnected": "yes",
              "leave_unconnected": ["S003", "S004"]},
    )  # fmt: skip
    assert again.status_code == 200
    assert "3 of 4 stores would not be connected" in visible_text(again)
    assert await domain_rows(engine) == before


async def test_a_partly_used_link_is_used_up_and_says_so(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> None:
    """The chosen behaviour: a confirmed link is used up even if stores were left; the
    customer was told before confirming and is told again, and the agent is told."""
    path, page = await at_choice(
        browser, emulator, four_stores, [organisations.standard, organisations.premium]
    )
    form = {"csrf_token": csrf_of(page), "store:S001": option_ids(page)["Acme Ltd"],
            "confirm_unconnected": "yes", "leave_unconnected": FOUR[1:]}  # fmt: skip
    assert (await browser.post(f"{path}/organisation", data=form)).status_code == 303

    landing = await browser.get(path)
    assert landing.status_code == 410
    assert "already been used" in visible_text(landing)
    later = await browser.post(
        f"{path}/organisation", data={**form, "store:S002": option_ids(page)["Acme Ltd"]}
    )
    assert later.status_code == 410
    assert "Ask your helpdesk contact for a new link" in visible_text(later)
    assert "1 of 4 stores connected" in (await browser.get(f"{path}/done")).text


async def test_a_rejected_choice_keeps_what_the_customer_chose(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    path, page = await at_choice(
        browser, emulator, four_stores, [organisations.standard, organisations.starter]
    )
    ids = option_ids(page)
    before = await domain_rows(engine)
    refused = await browser.post(
        f"{path}/organisation",
        data={"csrf_token": csrf_of(page), "store:S001": ids["Acme Ltd"],
              "store:S002": ids["Acme Starter"], "store:S003": "", "store:S004": ""},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "Acme Starter cannot be connected" in visible_text(refused)
    assert selected(refused)["S001"] == ids["Acme Ltd"]
    assert selected(refused)["S003"] == ""
    assert await domain_rows(engine) == before


async def connection_statuses(engine: AsyncEngine) -> dict[str, ConnectionStatus]:
    async with transaction(session_factory(engine)) as session:
        rows = await session.scalars(select(XeroConnection))
        return {row.tenant_name: row.status for row in rows}


def at_xero(emulator: XeroEmulator) -> list[str]:
    return sorted(c.tenant_name for c in emulator.connections)


async def test_organisations_no_store_uses_are_removed_at_xero_after_confirming(
    four_stores: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    web_deps: Dependencies,
) -> None:
    path, page = await at_choice(
        browser, emulator, four_stores,
        [organisations.standard, organisations.premium, organisations.starter],
    )  # fmt: skip
    ids = option_ids(page)
    assert at_xero(emulator) == ["Acme Ltd", "Acme Starter", "Acme Trading"]

    confirmed = await browser.post(
        f"{path}/organisation",
        data={"csrf_token": csrf_of(page), **{f"store:{code}": ids["Acme Ltd"] for code in FOUR}},
    )

    assert confirmed.status_code == 303
    assert at_xero(emulator) == ["Acme Ltd"]
    assert await connection_statuses(engine) == {
        "Acme Ltd": ConnectionStatus.ACTIVE,
        "Acme Starter": ConnectionStatus.DISCONNECTED,
        "Acme Trading": ConnectionStatus.DISCONNECTED,
    }
    removed = [
        entry.detail["organisation"]
        for entry in await domain.audit.history(web_deps, customer_id=1)
        if entry.action == "organisation.removed_unused"
    ]
    assert sorted(removed) == ["Acme Starter", "Acme Trading"]
    assert (await browser.get(f"{path}/done")).status_code == 200


async def test_an_organisation_another_store_uses_stays_connected_at_xero(
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    customer = await registered(web_deps, cloudpos, stores=2)
    first = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=["S001"], actor=AGENT
    )
    path, page = await at_choice(browser, emulator, first, [organisations.premium])
    await browser.post(f"{path}/organisation", data={"csrf_token": csrf_of(page),
                       "store:S001": option_ids(page)["Acme Trading"]})  # fmt: skip
    second = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=["S002"], actor=AGENT
    )
    path, page = await at_choice(
        browser, emulator, second, [organisations.standard, organisations.premium]
    )

    confirmed = await browser.post(f"{path}/organisation", data={
        "csrf_token": csrf_of(page), "store:S002": option_ids(page)["Acme Ltd"]})  # fmt: skip

    assert confirmed.status_code == 303
    assert at_xero(emulator) == ["Acme Ltd", "Acme Trading"]
    assert set((await connection_statuses(engine)).values()) == {ConnectionStatus.ACTIVE}
    assert await active_links(engine) == [1, 2]


async def test_xero_failing_to_remove_an_unused_organisation_does_not_undo_the_choice(
    link_with_starter: tuple[str, httpx.Response],
    emulator: XeroEmulator,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    web_deps: Dependencies,
) -> None:
    path, page = link_with_starter
    emulator.fail_next("delete", status=503, times=4)  # every attempt the client makes
    form = {"csrf_token": csrf_of(page), "store:S001": option_ids(page)["Acme Ltd"]}

    confirmed = await browser.post(f"{path}/organisation", data=form)

    assert confirmed.status_code == 303
    assert await active_links(engine) == [1]
    assert at_xero(emulator) == ["Acme Ltd", "Acme Starter"]
    assert (await connection_statuses(engine))["Acme Starter"] == ConnectionStatus.ACTIVE
    failed = next(
        e for e in await domain.audit.history(web_deps, customer_id=1)
        if e.action == "organisation.remove_unused_failed"
    )  # fmt: skip
    assert failed.detail["organisation"] == "Acme Starter"

    assert emulator.take_fault("delete") is None  # Xero answers again
    again = await browser.post(f"{path}/organisation", data=form)  # the same form, retried
    assert again.status_code == 303
    assert at_xero(emulator) == ["Acme Ltd"]
    assert (await connection_statuses(engine))["Acme Starter"] == ConnectionStatus.DISCONNECTED


@pytest.fixture
async def link_with_starter(
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> tuple[str, httpx.Response]:
    """A one-store link at its organisation page, Acme Ltd and Acme Starter allowed."""
    customer = await registered(web_deps, cloudpos, stores=1)
    link = await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=None, actor=AGENT
    )
    return await at_choice(browser, emulator, link, [organisations.standard,
                                                     organisations.starter])  # fmt: skip
