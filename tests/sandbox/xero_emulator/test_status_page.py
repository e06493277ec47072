"""Mounting under a prefix, the status page and its switches, and what is logged."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.clients.xero import XeroClient
from bot.domain.errors import XeroConnectionGone
from bot.domain.ports import TokenSet
from tests.sandbox.xero_emulator.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    ROOT,
    World,
    api_get,
    consent,
    make_client,
    open_consent,
    parse_page,
    redirect_query,
    submit,
)

# --- mounting, status page, logs ------------------------------------------------------------


async def test_the_emulator_works_mounted_under_a_prefix(world: World) -> None:
    root = f"{ROOT}/xero"
    mounted = Starlette(routes=[Mount("/xero", world.emulator.app)])
    async with (
        make_client(world, root=root) as xero,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=mounted), base_url=ROOT) as http,
    ):
        url = urlsplit(xero.authorization_url(state="mounted"))
        page = parse_page((await http.get(f"{url.path}?{url.query}")).text)
        assert page.form_action == "/xero/identity/connect/authorize"
        query = redirect_query(
            await submit(http, page, button="allow", tick=("Acme Ltd — STANDARD",))
        )
        tokens = await xero.exchange_code(code=query["code"])
        (connection,) = await xero.connections(access_token=tokens.access_token)
        status = (await http.get("/xero/")).text

    assert connection.tenant_id == world.acme.tenant_id
    assert f"XERO_TOKEN_URL={root}/identity/connect/token" in status
    assert f"XERO_API_URL={root}/api" in status


async def test_status_page_lists_users_organisations_and_connections(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    await consent(browser, client, "Future Shop — FUTURE_PLAN")

    response = await browser.get("/")

    assert response.status_code == 200
    html = response.text
    assert "Xero emulator (sandbox)" in html
    for text in ("Pat Lee", "sam@rival.example", "Rival Co", "GROW", "FUTURE_PLAN", CLIENT_ID):
        assert text in html
    (connection,) = world.emulator.connections_of(world.pat.user_id)
    assert connection.id in html
    assert CLIENT_SECRET not in html


async def test_no_token_or_secret_is_logged(
    world: World, client: XeroClient, browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, page = await open_consent(browser, client)
    query = redirect_query(
        await submit(browser, page, button="allow", tick=("Acme Ltd — STANDARD",))
    )
    tokens = await client.exchange_code(code=query["code"])
    renewed = await client.refresh(refresh_token=tokens.refresh_token)
    world.emulator.fail_next("token", status=503)
    await client.refresh(refresh_token=renewed.refresh_token)
    await client.revoke(refresh_token=renewed.refresh_token)

    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert any(record.name.startswith("sandbox.") for record in caplog.records)
    for secret in (query["code"], tokens.access_token, tokens.refresh_token, CLIENT_SECRET,
                   renewed.access_token, renewed.refresh_token):  # fmt: skip
        assert secret not in logged
    assert repr(world.emulator).count(CLIENT_SECRET) == 0


# --- the status page's switches: faults and "disconnect this app" ---------------------------


async def test_the_status_pages_disconnect_removes_the_app_from_that_organisation_only(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD", "Beta Cafe — PREMIUM")
    page = (await browser.get("/")).text
    assert "Disconnect Cloud POS from Acme Ltd" in page

    pressed = await browser.post("/controls/disconnect", data={"tenant_id": world.acme.tenant_id})

    assert pressed.status_code == 303
    assert pressed.headers["location"] == "/"
    left = await client.connections(access_token=tokens.access_token)
    assert [c.tenant_name for c in left] == ["Beta Cafe"]
    with pytest.raises(XeroConnectionGone):
        await client.organisation(access_token=tokens.access_token, tenant_id=world.acme.tenant_id)
    page = (await browser.get("/")).text
    assert "Disconnect Cloud POS from Acme Ltd" not in page
    assert "Disconnect Cloud POS from Beta Cafe" in page
    again = await browser.post("/controls/disconnect", data={"tenant_id": world.acme.tenant_id})
    assert again.status_code == 400
    assert again.text == "Bad request: the app is not connected to that organisation"


async def test_the_status_pages_change_plan_is_what_xero_then_answers(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    tokens = await consent(browser, client, "Acme Ltd — STANDARD")
    assert "Change plan of Acme Ltd" in (await browser.get("/")).text

    pressed = await browser.post(
        "/controls/plan", data={"tenant_id": world.acme.tenant_id, "plan_class": "STARTER"}
    )

    assert (pressed.status_code, pressed.headers["location"]) == (303, "/")
    organisation = await client.organisation(
        access_token=tokens.access_token, tenant_id=world.acme.tenant_id
    )
    assert organisation.plan_class == "STARTER"
    assert "<option selected>STARTER</option>" in (await browser.get("/")).text
    for form, error in (
        ({"tenant_id": world.acme.tenant_id, "plan_class": "GOLD"}, "plan_class must be one of"),
        ({"tenant_id": "nobody", "plan_class": "PREMIUM"}, "there is no such organisation"),
    ):
        refused = await browser.post("/controls/plan", data=form)
        assert refused.status_code == 400
        assert error in refused.text


async def test_the_status_pages_fault_switches_answer_429_then_5xx_then_normally(
    world: World, browser: httpx.AsyncClient
) -> None:
    for fault in (
        {"endpoint": "connections", "status": "429", "times": "1", "retry_after": "3"},
        {"endpoint": "connections", "status": "503", "times": "1", "delay": "0.25"},
    ):
        added = await browser.post("/controls/faults", data=fault)
        assert added.status_code == 303
    page = (await browser.get("/")).text
    assert "No faults" not in page
    assert "<td>connections</td><td>429</td><td>1</td>" in page

    answers = [await browser.get("/api/connections") for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 503, 401]
    assert answers[0].headers["retry-after"] == "3"
    assert world.emulator_sleeps == [0.25]
    assert "No faults: Xero answers normally." in (await browser.get("/")).text


async def test_a_slow_only_fault_delays_a_normal_answer_and_clear_removes_faults(
    world: World, browser: httpx.AsyncClient
) -> None:
    slow = {"endpoint": "token", "status": "200", "times": "2", "delay": "1.5"}
    assert (await browser.post("/controls/faults", data=slow)).status_code == 303
    answer = await browser.post("/identity/connect/token", data={"grant_type": "password"})
    assert answer.status_code == 401  # handled normally (no client credentials), after the delay
    assert world.emulator_sleeps == [1.5]
    assert "<td>token</td><td>normal, slow</td><td>1</td>" in (await browser.get("/")).text

    assert (await browser.post("/controls/faults/clear")).status_code == 303

    assert world.emulator.pending_faults() == []
    await browser.post("/identity/connect/token", data={"grant_type": "password"})
    assert world.emulator_sleeps == [1.5]


async def test_the_fault_switch_offers_the_accounting_reads_after_the_others(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    home = (await browser.get("/")).text
    start = home.index('<select id="fault-endpoint"')
    select = home[start : home.index("</select>", start)]
    offered = re.findall(r'<option value="([a-z_]+)">', select)
    assert offered[:5] == ["connections", "delete", "organisation", "revoke", "token"]
    assert offered[5:10] == ["accounts", "contact", "contacts", "tax_rates", "tracking"]

    added = await browser.post(
        "/controls/faults", data={"endpoint": "contacts", "status": "502", "times": "1"}
    )

    assert added.status_code == 303
    assert "<td>contacts</td><td>502</td><td>1</td>" in (await browser.get("/")).text
    failed = await api_get(browser, "Contacts", acme, world.acme.tenant_id)
    assert failed.status_code == 502
    assert (await api_get(browser, "Contacts", acme, world.acme.tenant_id)).status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"endpoint": "authorize", "status": "429"}, "endpoint must be one of"),
        ({"endpoint": "token", "status": "418"}, "status must be one the form offers"),
        ({"endpoint": "token", "status": "503", "times": "0"}, "times must be from 1 to 100"),
        ({"endpoint": "token", "status": "503", "delay": "nan"}, "delay must be from 0 to 60"),
    ],
)
async def test_the_fault_switch_refuses_a_form_the_page_never_sends(
    world: World, browser: httpx.AsyncClient, form: dict[str, str], error: str
) -> None:
    answer = await browser.post("/controls/faults", data=form)

    assert answer.status_code == 400
    assert error in answer.text
    assert world.emulator.pending_faults() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": ROOT, "Sec-Fetch-Site": "same-site"},
    ],
)
async def test_the_switches_refuse_a_form_from_another_site(
    world: World, browser: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answer = await browser.post(
        "/controls/faults", data={"endpoint": "token", "status": "503"}, headers=headers
    )

    assert answer.status_code == 403
    assert world.emulator.pending_faults() == []
