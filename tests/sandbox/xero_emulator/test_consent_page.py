"""The emulator's consent page, read and submitted as a browser would."""

from __future__ import annotations

import httpx
import pytest

from bot.clients.xero import XeroClient
from tests.sandbox.xero_emulator.helpers import (
    CLIENT_ID,
    REDIRECT_URI,
    SCOPES,
    World,
    open_consent,
    parse_page,
    redirect_query,
    submit,
)

# --- consent page ---------------------------------------------------------------------------


async def test_consent_page_shows_app_users_and_the_users_organisations(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    response, page = await open_consent(browser, client)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Xero emulator (sandbox)" in page.title
    assert page.headings[0] == "Xero emulator (sandbox)"
    assert "Cloud POS wants access" in page.headings[1]
    assert page.labels["user"] == "Log in as"
    assert [(value, text) for value, text, _ in page.options] == [
        (world.pat.user_id, "Pat Lee (pat@harbour.example)"),
        ("sam-0001", "Sam Roe (sam@rival.example)"),
    ]
    assert page.selected_user() == world.pat.user_id
    assert page.checkbox_labels() == [
        "Acme Ltd — STANDARD",
        "Beta Cafe — PREMIUM",
        "Future Shop — FUTURE_PLAN",
    ]
    assert page.checkbox("Acme Ltd — STANDARD") == {
        "type": "checkbox",
        "id": f"tenant-{world.acme.tenant_id}",
        "name": "tenant",
        "value": world.acme.tenant_id,
    }
    assert {(b["id"], b.get("name"), b.get("value"), b["text"]) for b in page.buttons} >= {
        ("allow", "action", "allow", "Allow access"),
        ("cancel", "action", "cancel", "Cancel"),
    }
    assert page.form_action == "/identity/connect/authorize"
    assert page.hidden() == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": " ".join(SCOPES),
        "state": "state-1",
    }


async def test_user_query_parameter_logs_in_as_another_user(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client, user="sam-0001")

    assert page.selected_user() == "sam-0001"
    assert page.checkbox_labels() == ["Rival Co — GROW"]


async def test_consent_page_escapes_organisation_names(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    world.emulator.add_organisation("<script>alert('x')</script> Ltd", users=[world.pat.user_id])

    response, page = await open_consent(browser, client)
    status = await browser.get("/")

    for html in (response.text, status.text):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    assert "<script>alert('x')</script> Ltd — STANDARD" in page.checkbox_labels()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_id": "someone-else"}, "Unknown client_id"),
        ({"redirect_uri": ""}, "redirect_uri"),
        ({"response_type": "token"}, "response_type"),
    ],
)
async def test_malformed_authorisation_requests_get_a_400_page(
    browser: httpx.AsyncClient, change: dict[str, str], message: str
) -> None:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s",
        **change,
    }

    response = await browser.get("/identity/connect/authorize", params=params)

    assert response.status_code == 400
    page = parse_page(response.text)
    assert message in page.alert
    assert not page.buttons


async def test_allow_without_an_organisation_re_renders_with_an_error(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client)

    response = await submit(browser, page, button="allow")

    assert response.status_code == 400
    again = parse_page(response.text)
    assert "Tick at least one organisation" in again.alert
    assert again.hidden()["state"] == "state-1"
    assert world.emulator.connections_of(world.pat.user_id) == []


async def test_cancel_redirects_with_access_denied_and_the_state(
    world: World, client: XeroClient, browser: httpx.AsyncClient
) -> None:
    _, page = await open_consent(browser, client, state="keep-me")

    query = redirect_query(
        await submit(browser, page, button="cancel", tick=("Acme Ltd — STANDARD",))
    )

    assert query == {"error": "access_denied", "state": "keep-me"}
    assert world.emulator.connections_of(world.pat.user_id) == []
