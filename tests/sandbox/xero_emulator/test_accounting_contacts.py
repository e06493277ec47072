"""Contacts over HTTP: pages of 100 from 1, Xero's pagination block, archived contacts only
when asked, `searchTerm`, `summaryOnly`, and one contact by id (404 for an unknown one)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bot.domain.ports import TokenSet
from tests.sandbox.xero_emulator.helpers import World, api_get

CLIENT_PARAMS = {"pageSize": "100", "summaryOnly": "true"}
"""What the bot's client sends with every page."""


async def pages(
    browser: httpx.AsyncClient, tokens: TokenSet, tenant_id: str, count: int, **params: str
) -> list[dict[str, Any]]:
    return [
        (await api_get(browser, "Contacts", tokens, tenant_id, page=str(n), **params)).json()
        for n in range(1, count + 1)
    ]


# --- paging ---------------------------------------------------------------------------------


async def test_2000_contacts_are_20_pages_of_100_and_page_21_is_empty(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    books = world.emulator.books(tenant)

    answers = await pages(browser, acme, tenant, 21, includeArchived="true", **CLIENT_PARAMS)

    sizes = [len(answer["Contacts"]) for answer in answers]
    assert sizes == [100] * 20 + [0]
    assert answers[0]["pagination"] == {
        "page": 1, "pageSize": 100, "pageCount": 20, "itemCount": 2000,
    }  # fmt: skip
    assert answers[20]["pagination"] == {
        "page": 21, "pageSize": 100, "pageCount": 20, "itemCount": 2000,
    }  # fmt: skip
    names = [c["Name"] for answer in answers for c in answer["Contacts"]]
    assert names == [c.name for c in books.contacts]  # each once, in Xero's order (by name)


async def test_archived_contacts_are_left_out_unless_asked(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    books = world.emulator.books(tenant)
    active = [c.contact_id for c in books.contacts if c.status == "ACTIVE"]

    answers = await pages(browser, acme, tenant, 21, **CLIENT_PARAMS)

    assert len(active) == 1940
    ids = [c["ContactID"] for answer in answers for c in answer["Contacts"]]
    assert ids == active
    assert [len(a["Contacts"]) for a in answers[-2:]] == [40, 0]
    assert answers[0]["pagination"]["pageCount"] == 20


async def test_without_a_page_every_contact_comes_back_and_page_size_is_bounded(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id

    unpaged = (await api_get(browser, "Contacts", acme, tenant)).json()
    bigger = (await api_get(browser, "Contacts", acme, tenant, page="2", pageSize="500")).json()
    capped = (await api_get(browser, "Contacts", acme, tenant, page="1", pageSize="5000")).json()
    odd = (await api_get(browser, "Contacts", acme, tenant, page="zero", pageSize="-3")).json()

    assert "pagination" not in unpaged
    assert len(unpaged["Contacts"]) == 1940
    assert len(bigger["Contacts"]) == 500
    assert bigger["Contacts"][0]["ContactID"] == unpaged["Contacts"][500]["ContactID"]
    assert (len(capped["Contacts"]), capped["pagination"]["pageSize"]) == (1000, 1000)
    assert odd["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 20, "itemCount": 1940}


# --- search and shape -----------------------------------------------------------------------


async def test_search_term_matches_names_in_any_case(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    books = world.emulator.books(tenant)

    cash = (await api_get(browser, "Contacts", acme, tenant, searchTerm="cASH sALES")).json()
    word = (await api_get(browser, "Contacts", acme, tenant, searchTerm="bakery", page="1")).json()
    none = (await api_get(browser, "Contacts", acme, tenant, searchTerm="zzqx", page="1")).json()

    assert [c["Name"] for c in cash["Contacts"]] == ["Cash Sales"]
    expected = [
        c.name for c in books.contacts if "bakery" in c.name.lower() and c.status == "ACTIVE"
    ]
    assert expected
    assert [c["Name"] for c in word["Contacts"]] == expected[:100]
    assert word["pagination"]["itemCount"] == len(expected)
    assert none["Contacts"] == []
    assert none["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 0, "itemCount": 0}


async def test_search_also_finds_a_person_by_first_or_last_name_and_email(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    person = next(
        c for c in world.emulator.books(tenant).contacts if c.first_name and c.status == "ACTIVE"
    )

    for term in (person.last_name.upper(), person.email):
        found = (await api_get(browser, "Contacts", acme, tenant, searchTerm=term)).json()
        assert person.contact_id in [c["ContactID"] for c in found["Contacts"]]


async def test_summary_only_leaves_out_addresses_and_phones(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id

    summary = await api_get(
        browser, "Contacts", acme, tenant, searchTerm="Cash Sales", **CLIENT_PARAMS
    )
    full = await api_get(browser, "Contacts", acme, tenant, searchTerm="Cash Sales")

    (light,) = summary.json()["Contacts"]
    (heavy,) = full.json()["Contacts"]
    assert light == {
        "ContactID": light["ContactID"], "ContactStatus": "ACTIVE", "Name": "Cash Sales",
        "BankAccountDetails": "", "IsSupplier": False, "IsCustomer": True,
        "UpdatedDateUTC": light["UpdatedDateUTC"], "ContactGroups": [], "HasAttachments": False,
        "HasValidationErrors": False,
    }  # fmt: skip
    assert set(heavy) - set(light) == {"Addresses", "Phones", "ContactPersons", "DefaultCurrency"}


# --- one contact ----------------------------------------------------------------------------


async def test_one_contact_by_id_archived_or_not_in_any_case(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    books = world.emulator.books(tenant)
    archived = next(c for c in books.contacts if c.status == "ARCHIVED")

    answer = await api_get(browser, f"Contacts/{archived.contact_id.upper()}", acme, tenant)

    assert answer.status_code == 200
    (contact,) = answer.json()["Contacts"]
    assert (contact["ContactID"], contact["Name"]) == (archived.contact_id, archived.name)
    assert contact["ContactStatus"] == "ARCHIVED"
    assert "Addresses" in contact
    assert answer.json()["Status"] == "OK"


async def test_an_unknown_contact_is_xeros_not_found(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id
    elsewhere = world.emulator.books(world.beta.tenant_id).contacts[0].contact_id

    for contact_id in (str(uuid.uuid4()), elsewhere, "Cash Sales"):
        answer = await api_get(browser, f"Contacts/{contact_id}", acme, tenant)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.text == "The resource you're looking for cannot be found"
