"""Every way the customer pages can go wrong: its own page, its status, and nothing changed."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot import domain
from bot.app import create_app
from bot.domain import Dependencies
from bot.domain.results import ConsentLink
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.conftest import Clock
from tests.domain_helpers import AGENT, registered, snapshot
from tests.web_fixtures import (
    BOT,
    Organisations,
    csrf_of,
    local,
    return_from_xero,
    start_consent,
    web_settings,
)

DOMAIN_TABLES = ("customers", "stores", "xero_grants", "xero_connections", "store_links",
                 "consent_requests", "consent_request_stores")  # fmt: skip


async def domain_rows(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """The rows that carry state; audit events and used OAuth states may be added."""
    rows = await snapshot(engine)
    return {table: rows[table] for table in DOMAIN_TABLES}


@pytest.fixture
async def link(web_deps: Dependencies, cloudpos: CloudPosEmulator) -> ConsentLink:
    customer = await registered(web_deps, cloudpos)
    return await domain.links.issue(
        web_deps, customer_id=customer.id, store_codes=["S001", "S002"], actor=AGENT
    )


@pytest.fixture
async def choosing(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> str:
    """The link's path, once the customer came back from Xero having allowed Acme Ltd."""
    path = local(link.url)
    await return_from_xero(browser, emulator, await start_consent(browser, path),
                           [organisations.standard])  # fmt: skip
    return path


def allowed(emulator: XeroEmulator, authorise: dict[str, str], tenant_id: str) -> str:
    """Where Xero sends the browser back after "Allow access"."""
    return local(
        emulator.authorise(
            user_id="xero-user-1",
            tenant_ids=[tenant_id],
            redirect_uri=authorise["redirect_uri"],
            state=authorise["state"],
            code_challenge=authorise["code_challenge"],
            code_challenge_method=authorise["code_challenge_method"],
        )
    )


def visible_text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


async def test_an_unknown_link_is_404_and_says_what_to_do(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/connect/not-a-real-token")
    assert page.status_code == 404
    assert "Ask your helpdesk contact for a new link" in visible_text(page)


async def test_an_expired_link_is_410(
    link: ConsentLink, browser: httpx.AsyncClient, clock: Clock, engine: AsyncEngine
) -> None:
    clock.advance(hours=73)
    before = await snapshot(engine)
    page = await browser.get(local(link.url))
    assert page.status_code == 410
    assert "This link has expired. Ask your helpdesk contact" in visible_text(page)
    assert await snapshot(engine) == before


async def test_a_revoked_link_is_410(
    link: ConsentLink, web_deps: Dependencies, browser: httpx.AsyncClient
) -> None:
    await domain.links.revoke(web_deps, consent_request_id=link.consent_request_id, actor=AGENT)
    page = await browser.get(local(link.url))
    assert page.status_code == 410
    assert "withdrawn" in visible_text(page)


async def test_a_completed_link_is_410_but_its_summary_still_shows(
    choosing: str, browser: httpx.AsyncClient
) -> None:
    path = choosing
    choose = await browser.get(f"{path}/organisation")
    option = re.search(r'<option value="(\d+)"', choose.text)
    assert option is not None
    form = {"csrf_token": csrf_of(choose), "store:S001": option.group(1),
            "store:S002": option.group(1)}  # fmt: skip
    first = await browser.post(f"{path}/organisation", data=form)
    second = await browser.post(f"{path}/organisation", data=form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"] == f"{path}/done"
    assert (await browser.get(path)).status_code == 410
    assert "Acme Ltd" in (await browser.get(f"{path}/done")).text


async def test_cancel_at_xero_changes_nothing_and_offers_a_way_back(
    link: ConsentLink,
    emulator: XeroEmulator,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    web_deps: Dependencies,
) -> None:
    path = local(link.url)
    authorise = await start_consent(browser, path)
    before = await domain_rows(engine)

    back = local(emulator.deny(redirect_uri=authorise["redirect_uri"], state=authorise["state"]))
    page = await browser.get(back)

    assert page.status_code == 200
    assert "You cancelled at Xero, so nothing was connected" in visible_text(page)
    assert f'href="{path}"' in page.text
    assert await domain_rows(engine) == before
    assert (await domain.audit.history(web_deps, customer_id=1))[0].action == "consent.cancelled"
    assert (await browser.get(path)).status_code == 200


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda query: query.replace("state=", "nostate="), "missing its sign-in check"),
        (lambda query: re.sub(r"state=[^&]+", "state=forged", query), "does not match"),
    ],
)
async def test_a_missing_or_unknown_state_is_400(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
    mangle: object,
    reason: str,
) -> None:
    authorise = await start_consent(browser, local(link.url))
    back = allowed(emulator, authorise, organisations.standard.tenant_id)
    before = await domain_rows(engine)
    assert callable(mangle)
    page = await browser.get(mangle(back))
    assert page.status_code == 400
    assert reason in visible_text(page)
    assert await domain_rows(engine) == before


async def test_a_replayed_state_ends_where_the_first_answer_ended_and_changes_nothing(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    """A reload or a second click shows the first answer's outcome; Xero is not asked again."""
    authorise = await start_consent(browser, local(link.url))
    back = allowed(emulator, authorise, organisations.standard.tenant_id)
    first = await browser.get(back)
    assert first.status_code == 303
    before = await domain_rows(engine)
    replay = await browser.get(back)
    assert (replay.status_code, replay.headers["location"]) == (303, first.headers["location"])
    assert await domain_rows(engine) == before


async def test_a_replayed_state_from_another_browser_is_400(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    web_app: Starlette,
    engine: AsyncEngine,
) -> None:
    authorise = await start_consent(browser, local(link.url))
    back = allowed(emulator, authorise, organisations.standard.tenant_id)
    assert (await browser.get(back)).status_code == 303
    before = await domain_rows(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url=BOT) as other:
        replay = await other.get(back)
    assert replay.status_code == 400
    assert "already been used" in visible_text(replay)
    assert await domain_rows(engine) == before


async def test_a_state_from_another_browser_is_400(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    web_app: Starlette,
    engine: AsyncEngine,
) -> None:
    authorise = await start_consent(browser, local(link.url))
    back = allowed(emulator, authorise, organisations.standard.tenant_id)
    before = await domain_rows(engine)
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url=BOT) as other_browser:
        page = await other_browser.get(back)
    assert page.status_code == 400
    assert "started in a different browser" in visible_text(page)
    assert await domain_rows(engine) == before
    assert (await browser.get(back)).status_code == 303  # the right browser still can


async def test_xero_failing_during_the_code_exchange_leaves_the_link_usable(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    path = local(link.url)
    authorise = await start_consent(browser, path)
    emulator.fail_next("token", status=503, times=10)
    before = await domain_rows(engine)

    page = await return_from_xero(browser, emulator, authorise, [organisations.standard])

    assert page.status_code == 502
    assert "Your link still works" in visible_text(page)
    assert f'href="{path}"' in page.text
    assert await domain_rows(engine) == before
    assert (await browser.get(path)).status_code == 200


async def test_no_eligible_organisation_lists_them_with_their_plans(
    link: ConsentLink,
    emulator: XeroEmulator,
    organisations: Organisations,
    browser: httpx.AsyncClient,
) -> None:
    path = local(link.url)
    authorise = await start_consent(browser, path)
    await return_from_xero(
        browser, emulator, authorise, [organisations.starter, organisations.trial]
    )

    page = await browser.get(f"{path}/organisation")

    text = visible_text(page)
    assert page.status_code == 200
    assert "none can be connected" in text
    assert "Acme Starter Starter Starter plan — trial, starter and demo" in text
    assert "Acme Trial Trial Trial plan" in text
    assert "Connect to Xero again" in text


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_a_post_without_a_valid_csrf_token_is_refused(
    link: ConsentLink, browser: httpx.AsyncClient, engine: AsyncEngine, token: str | None
) -> None:
    path = local(link.url)
    await browser.get(path)
    before = await snapshot(engine)
    page = await browser.post(path, data={} if token is None else {"csrf_token": token})
    assert page.status_code == 403
    assert "Please reload the page" in page.text
    assert await snapshot(engine) == before


async def test_a_csrf_token_from_another_browser_is_refused(
    link: ConsentLink, browser: httpx.AsyncClient, web_app: Starlette
) -> None:
    path = local(link.url)
    stolen = csrf_of(await browser.get(path))
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url=BOT) as attacker:
        await attacker.get(path)
        assert (await attacker.post(path, data={"csrf_token": stolen})).status_code == 403


async def test_the_organisation_form_checks_csrf_too(
    choosing: str, browser: httpx.AsyncClient
) -> None:
    path = choosing
    page = await browser.post(f"{path}/organisation", data={"store:S001": "1"})
    assert page.status_code == 403


async def test_choosing_nothing_is_a_clear_400_on_the_same_page(
    choosing: str, browser: httpx.AsyncClient
) -> None:
    path = choosing
    choose = await browser.get(f"{path}/organisation")
    page = await browser.post(
        f"{path}/organisation", data={"csrf_token": csrf_of(choose), "store:S001": ""}
    )
    assert page.status_code == 400
    assert "Choose an organisation for at least one store." in visible_text(page)
    assert "Confirm Selection" in page.text


async def test_pages_carry_the_security_headers(
    link: ConsentLink, browser: httpx.AsyncClient
) -> None:
    page = await browser.get(local(link.url))
    assert page.headers["referrer-policy"] == "no-referrer"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "form-action 'self' http://xero.test" in csp
    assert "https:" not in csp
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # PUBLIC_BASE_URL is http here


async def test_a_get_never_changes_anything(
    link: ConsentLink, browser: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    before = await snapshot(engine)
    for path in (local(link.url), f"{local(link.url)}/organisation", f"{local(link.url)}/done"):
        await browser.get(path)
    assert await snapshot(engine) == before


async def test_the_public_pages_are_rate_limited_per_address(
    web_deps: Dependencies,
) -> None:
    app = create_app(web_settings(rate_limit=3), deps=web_deps)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url=BOT) as client:
        statuses = [(await client.get("/connect/x")).status_code for _ in range(4)]
        health = await client.get("/healthz")
    assert statuses == [404, 404, 404, 429]
    assert health.status_code == 200


async def test_an_unexpected_error_shows_a_reference_not_a_traceback(
    web_deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(domain.consent, "open", broken)
    app = create_app(web_settings(), deps=web_deps)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BOT) as client:
        page = await client.get("/connect/anything")
    assert page.status_code == 500
    assert "Reference:" in page.text
    assert "hunter2" not in page.text
    assert "Traceback" not in page.text
