"""The contact reads of posting set-up: a page of contacts, searched, and one contact by id."""

from __future__ import annotations

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.domain.errors import ExternalServiceError, InvalidRequest
from bot.domain.ports import XeroContact
from tests.clients.xero.accounting_fixtures import (
    BANK_ID,
    CONTACT_ID,
    CONTACTS_URL,
    OLD_ID,
    SALES_ID,
    assert_one_tenant_get,
    contact_json,
)
from tests.clients.xero.xero_fixtures import ACCESS, TENANT_A, FakeSleep

# --- contacts -------------------------------------------------------------------------------


async def test_contacts_first_page_without_search(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(CONTACTS_URL).respond(
        json={
            "Contacts": [
                contact_json(),
                {"ContactID": OLD_ID, "Name": "Gone Ltd", "ContactStatus": "ARCHIVED"},
                {"ContactID": BANK_ID, "Name": "No status"},
                {"ContactID": SALES_ID},
                {"Name": "No id"},
            ]
        }
    )
    contacts = await client.contacts(access_token=ACCESS, tenant_id=TENANT_A)
    assert contacts == [
        XeroContact(contact_id=CONTACT_ID, name="Walk-in customers", status="ACTIVE"),
        XeroContact(contact_id=OLD_ID, name="Gone Ltd", status="ARCHIVED"),
        XeroContact(contact_id=BANK_ID, name="No status", status=""),
    ]
    request = assert_one_tenant_get(route)
    assert request.url.path == "/api.xro/2.0/Contacts"
    assert dict(request.url.params) == {"page": "1", "pageSize": "100", "summaryOnly": "true"}


@pytest.mark.parametrize(
    ("search", "page", "term"),
    [
        ("  Walk-in  ", 1, "Walk-in"),
        ("Ada & Co/Ltd?", 3, "Ada & Co/Ltd?"),
        ("x" * 150, 2, "x" * 100),
        ("   ", 1, None),
        (" " + "y" * 99 + "   z", 1, "y" * 99),
    ],
    ids=["stripped", "other-page", "bounded", "blank", "bounded-then-stripped"],
)
async def test_contacts_search_and_page(
    client: XeroClient, xero_api: respx.MockRouter, search: str, page: int, term: str | None
) -> None:
    route = xero_api.get(CONTACTS_URL).respond(json={"Contacts": []})
    assert (
        await client.contacts(access_token=ACCESS, tenant_id=TENANT_A, search=search, page=page)
        == []
    )
    params = route.calls.last.request.url.params
    assert params["page"] == str(page)
    assert params["summaryOnly"] == "true"
    assert params.get("searchTerm") == term


async def test_contacts_page_holds_at_most_a_page(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    many = [contact_json(f"id-{n}", f"Customer {n}") for n in range(130)]
    xero_api.get(CONTACTS_URL).respond(json={"Contacts": many})
    contacts = await client.contacts(access_token=ACCESS, tenant_id=TENANT_A, page=2)
    assert len(contacts) == 100
    assert contacts[-1].contact_id == "id-99"


async def test_contact_names_are_bounded_like_the_stored_name(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(CONTACTS_URL).respond(json={"Contacts": [contact_json(name="Z" * 400)]})
    [contact] = await client.contacts(access_token=ACCESS, tenant_id=TENANT_A)
    assert contact.name == "Z" * 299 + "…"


@pytest.mark.parametrize("page", [0, -1, True], ids=["zero", "negative", "bool"])
async def test_contacts_bad_page_is_refused_without_a_request(
    client: XeroClient, xero_api: respx.MockRouter, page: int
) -> None:
    route = xero_api.get(CONTACTS_URL).respond(json={"Contacts": []})
    with pytest.raises(InvalidRequest):
        await client.contacts(access_token=ACCESS, tenant_id=TENANT_A, page=page)
    assert route.call_count == 0


# --- one contact ----------------------------------------------------------------------------


async def test_contact_by_id(client: XeroClient, xero_api: respx.MockRouter) -> None:
    route = xero_api.get(f"{CONTACTS_URL}/{CONTACT_ID}").respond(
        json={"Contacts": [{**contact_json(), "ContactStatus": "ARCHIVED", "Addresses": []}]}
    )
    contact = await client.contact(access_token=ACCESS, tenant_id=TENANT_A, contact_id=CONTACT_ID)
    assert contact == XeroContact(
        contact_id=CONTACT_ID, name="Walk-in customers", status="ARCHIVED"
    )
    request = assert_one_tenant_get(route)
    assert request.url.path == f"/api.xro/2.0/Contacts/{CONTACT_ID}"
    assert request.url.query == b""


async def test_contact_accepts_xero_spelling_in_another_case(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    upper = CONTACT_ID.upper()
    xero_api.get(f"{CONTACTS_URL}/{upper}").respond(json={"Contacts": [contact_json()]})
    contact = await client.contact(access_token=ACCESS, tenant_id=TENANT_A, contact_id=upper)
    assert contact is not None
    assert contact.contact_id == CONTACT_ID


@pytest.mark.parametrize(
    "response",
    [httpx.Response(404, json={"Title": "Not Found"}), httpx.Response(200, json={"Contacts": []})],
    ids=["404", "empty-list"],
)
async def test_unknown_contact_is_none_and_not_retried(
    client: XeroClient, xero_api: respx.MockRouter, sleep: FakeSleep, response: httpx.Response
) -> None:
    route = xero_api.get(f"{CONTACTS_URL}/{CONTACT_ID}").mock(return_value=response)
    assert (
        await client.contact(access_token=ACCESS, tenant_id=TENANT_A, contact_id=CONTACT_ID) is None
    )
    assert route.call_count == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    "body",
    [
        {"Contacts": [contact_json(OLD_ID)]},
        {"Contacts": [{"ContactID": CONTACT_ID}]},
        {"Contacts": ["junk"]},
    ],
    ids=["another-contact", "no-name", "not-an-object"],
)
async def test_contact_answer_of_the_wrong_shape_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter, body: object
) -> None:
    xero_api.get(f"{CONTACTS_URL}/{CONTACT_ID}").respond(json=body)
    with pytest.raises(ExternalServiceError) as caught:
        await client.contact(access_token=ACCESS, tenant_id=TENANT_A, contact_id=CONTACT_ID)
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "contact_id",
    ["", "walk-in", f"{CONTACT_ID}/History", f"../{CONTACT_ID}", f" {CONTACT_ID}", "g" * 36],
)
async def test_bad_contact_id_is_refused_without_a_request(
    client: XeroClient, xero_api: respx.MockRouter, contact_id: str
) -> None:
    route = xero_api.get(url__startswith=CONTACTS_URL).respond(json={"Contacts": []})
    with pytest.raises(InvalidRequest):
        await client.contact(access_token=ACCESS, tenant_id=TENANT_A, contact_id=contact_id)
    assert route.call_count == 0
