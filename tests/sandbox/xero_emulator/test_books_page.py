"""Each organisation's books page and its switches (archive an account or a contact, change a
tax rate's status), seen afterwards through the Accounting API as the bot would see them."""

from __future__ import annotations

import httpx
import pytest

from bot.domain.ports import TokenSet
from tests.sandbox.xero_emulator.helpers import ROOT, World, api_get, parse_page


async def test_the_status_page_links_each_organisations_books(
    world: World, browser: httpx.AsyncClient
) -> None:
    home = (await browser.get("/")).text

    assert f'<a href="/books/{world.acme.tenant_id}">Books of Acme Ltd</a>' in home
    page = await browser.get(f"/books/{world.acme.tenant_id}")
    assert page.status_code == 200
    parsed = parse_page(page.text)
    assert "Books of Acme Ltd" in parsed.headings
    for text in ("Card clearing", "Gift card liability", "20% (VAT on Income)", "Region",
                 "Department (old)", "2000 contacts, 60 of them archived."):  # fmt: skip
        assert text in page.text
    buttons = {b["text"] for b in parsed.buttons}
    assert "Archive 200 Sales" in buttons
    assert "Archive 616 Card clearing (old terminal)" not in buttons  # archived already
    missing = await browser.get("/books/no-such-tenant")
    assert (missing.status_code, missing.text) == (404, "Not found: there is no such organisation.")


async def test_archiving_an_account_on_the_page_is_what_the_api_then_answers(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id

    pressed = await browser.post(
        "/controls/books/account", data={"tenant_id": tenant, "code": "615"}
    )

    assert (pressed.status_code, pressed.headers["location"]) == (303, f"/books/{tenant}")
    accounts = (await api_get(browser, "Accounts", acme, tenant)).json()["Accounts"]
    (card,) = [a for a in accounts if a.get("Code") == "615"]
    assert card["Status"] == "ARCHIVED"
    buttons = {b["text"] for b in parse_page((await browser.get(f"/books/{tenant}")).text).buttons}
    assert "Archive 615 Card clearing" not in buttons
    assert world.emulator.book_changes[tenant]["accounts"]["615"][0] == "ARCHIVED"


async def test_a_tax_rates_status_switch(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    form = {"tenant_id": tenant, "tax_type": "OUTPUT2", "status": "ARCHIVED"}

    pressed = await browser.post("/controls/books/tax-rate", data=form)

    assert pressed.status_code == 303
    rates = (await api_get(browser, "TaxRates", acme, tenant)).json()["TaxRates"]
    assert {r["TaxType"]: r["Status"] for r in rates}["OUTPUT2"] == "ARCHIVED"
    page = (await browser.get(f"/books/{tenant}")).text
    assert '<option value="ARCHIVED" selected>ARCHIVED</option>' in page


async def test_archiving_a_contact_found_by_searching_the_page(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    page = parse_page((await browser.get(f"/books/{tenant}", params={"q": "cash sal"})).text)
    (hidden,) = [i for i in page.inputs if i.get("name") == "contact_id"]
    assert "Archive Cash Sales" in {b["text"] for b in page.buttons}

    pressed = await browser.post(
        "/controls/books/contact", data={"tenant_id": tenant, "contact_id": hidden["value"]}
    )

    assert pressed.status_code == 303
    listed = await api_get(browser, "Contacts", acme, tenant, searchTerm="Cash Sales")
    assert listed.json()["Contacts"] == []
    one = await api_get(browser, f"Contacts/{hidden['value']}", acme, tenant)
    assert one.json()["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    again = parse_page((await browser.get(f"/books/{tenant}", params={"q": "cash sal"})).text)
    assert "Archive Cash Sales" not in {b["text"] for b in again.buttons}
    assert "<td>Cash Sales</td>" in (await browser.get(f"/books/{tenant}?q=cash+sal")).text


async def test_the_books_page_lists_at_most_50_contacts(
    world: World, browser: httpx.AsyncClient
) -> None:
    page = (await browser.get(f"/books/{world.acme.tenant_id}")).text

    assert page.count('name="contact_id"') <= 50
    assert "The first 50 matches are shown" in page
    assert (
        "No contact matches."
        in (await browser.get(f"/books/{world.acme.tenant_id}", params={"q": "zzqx"})).text
    )


@pytest.mark.parametrize(
    ("path", "form", "error"),
    [
        ("account", {"code": "999"}, "no account with code '999'"),
        ("tax-rate", {"tax_type": "OUTPUT2", "status": "GONE"}, "status must be one of"),
        ("contact", {"contact_id": "x"}, "no contact with that id"),
        ("account", {"tenant_id": "nobody", "code": "200"}, "there is no such organisation"),
    ],
)
async def test_a_books_switch_refuses_a_form_the_page_never_sends(
    world: World, browser: httpx.AsyncClient, path: str, form: dict[str, str], error: str
) -> None:
    answer = await browser.post(
        f"/controls/books/{path}", data={"tenant_id": world.acme.tenant_id, **form}
    )

    assert answer.status_code == 400
    assert error in answer.text
    assert world.emulator.book_changes == {}


async def test_a_books_switch_refuses_a_form_from_another_site(
    world: World, browser: httpx.AsyncClient
) -> None:
    answer = await browser.post(
        "/controls/books/account",
        data={"tenant_id": world.acme.tenant_id, "code": "200"},
        headers={"Origin": "https://elsewhere.example", "Referer": ROOT},
    )

    assert answer.status_code == 403
    sales = world.emulator.books(world.acme.tenant_id).account("200")
    assert sales is not None
    assert sales.status == "ACTIVE"
