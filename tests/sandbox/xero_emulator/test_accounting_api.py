"""The Accounting API's reads over HTTP: Xero's JSON shapes, the token, scope and tenant
checks, and injected faults on each of them. Contacts' paging and search are in
test_accounting_contacts; the bot's own client on them in test_accounting_client."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from bot.clients.xero import XeroClient
from bot.domain.ports import TokenSet
from sandbox.xero_emulator import Endpoint
from tests.conftest import Clock
from tests.sandbox.xero_emulator.helpers import API, World, api_get, consent, make_client

XERO_DATE = re.compile(r"/Date\(\d{13}\+0000\)/")
GUID = re.compile(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}")
READS: list[tuple[str, Endpoint]] = [
    ("Accounts", "accounts"),
    ("TaxRates", "tax_rates"),
    ("TrackingCategories", "tracking"),
    ("Contacts", "contacts"),
    ("Contacts/{contact}", "contact"),
]


def path_of(world: World, path: str) -> str:
    cash = world.emulator.books(world.acme.tenant_id).contact_named("Cash Sales")
    assert cash is not None
    return path.format(contact=cash.contact_id)


# --- shapes ---------------------------------------------------------------------------------


async def test_accounts_answer_in_xeros_shape(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    answer = await api_get(browser, "Accounts", acme, world.acme.tenant_id)

    assert answer.status_code == 200
    body = answer.json()
    assert (body["Status"], body["ProviderName"]) == ("OK", "Cloud POS")
    assert XERO_DATE.fullmatch(body["DateTimeUTC"])
    accounts = body["Accounts"]
    books = world.emulator.books(world.acme.tenant_id)
    assert [a["AccountID"] for a in accounts] == [a.account_id for a in books.accounts]
    assert all(GUID.fullmatch(a["AccountID"]) and XERO_DATE.fullmatch(a["UpdatedDateUTC"])
               for a in accounts)  # fmt: skip
    by_code = {a.get("Code"): a for a in accounts}
    assert by_code["200"] | {"AccountID": "", "UpdatedDateUTC": ""} == {
        "AccountID": "", "Code": "200", "Name": "Sales", "Status": "ACTIVE", "Type": "REVENUE",
        "TaxType": "OUTPUT2", "Class": "REVENUE", "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": False, "BankAccountType": "", "ReportingCode": "REV",
        "HasAttachments": False, "UpdatedDateUTC": "", "AddToWatchlist": False,
    }  # fmt: skip
    assert by_code["615"]["EnablePaymentsToAccount"] is True
    assert (by_code["860"]["SystemAccount"], by_code["860"]["Class"]) == ("ROUNDING", "LIABILITY")
    bank = by_code["090"]
    assert (bank["Type"], bank["BankAccountType"], bank["CurrencyCode"]) == ("BANK", "BANK", "GBP")
    assert by_code[None]["Name"] == "PayPal"  # Xero leaves the Code out of an account with none
    assert {a["Status"] for a in accounts} == {"ACTIVE", "ARCHIVED"}


async def test_tax_rates_answer_every_status_with_the_rate_as_a_number(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    answer = await api_get(browser, "TaxRates", acme, world.acme.tenant_id)

    rates = {rate["TaxType"]: rate for rate in answer.json()["TaxRates"]}
    assert {rate["Status"] for rate in rates.values()} == {"ACTIVE", "ARCHIVED", "DELETED"}
    assert rates["OUTPUT2"] == {
        "Name": "20% (VAT on Income)", "TaxType": "OUTPUT2", "ReportTaxType": "OUTPUT",
        "CanApplyToAssets": True, "CanApplyToEquity": True, "CanApplyToExpenses": False,
        "CanApplyToLiabilities": True, "CanApplyToRevenue": True, "DisplayTaxRate": 20.0,
        "EffectiveRate": 20.0, "Status": "ACTIVE",
        "TaxComponents": [
            {"Name": "VAT", "Rate": 20.0, "IsCompound": False, "IsNonRecoverable": False}
        ],
    }  # fmt: skip
    assert (rates["OUTPUT"]["EffectiveRate"], rates["OUTPUT"]["Status"]) == (17.5, "ARCHIVED")


async def test_tracking_categories_leave_archived_ones_out_unless_asked(
    world: World, browser: httpx.AsyncClient, acme: TokenSet
) -> None:
    tenant = world.acme.tenant_id

    active = (await api_get(browser, "TrackingCategories", acme, tenant)).json()
    every = (
        await api_get(browser, "TrackingCategories", acme, tenant, includeArchived="true")
    ).json()

    def shown(body: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
        return {
            c["Name"]: {(o["Name"], o["Status"]) for o in c["Options"]}
            for c in body["TrackingCategories"]
        }

    assert set(shown(active)) == {"Region", "Store"}
    assert all(status == "ACTIVE" for options in shown(active).values() for _, status in options)
    assert set(shown(every)) == {"Region", "Store", "Department (old)"}
    assert ("Central", "ARCHIVED") in shown(every)["Region"]
    assert ("Central", "ARCHIVED") not in shown(active)["Region"]
    region = every["TrackingCategories"][0]
    assert GUID.fullmatch(region["TrackingCategoryID"])
    assert region["Status"] == "ACTIVE"
    assert region["Options"][0] | {"TrackingOptionID": ""} == {
        "TrackingOptionID": "", "Name": "North", "Status": "ACTIVE",
        "HasValidationErrors": False, "IsDeleted": False, "IsArchived": False, "IsActive": True,
    }  # fmt: skip


# --- token, scope and tenant ----------------------------------------------------------------


@pytest.mark.parametrize(("path", "endpoint"), READS)
async def test_a_tenant_the_token_does_not_reach_is_forbidden(
    world: World, browser: httpx.AsyncClient, acme: TokenSet, path: str, endpoint: Endpoint
) -> None:
    path = path_of(world, path)

    for tenant_id in (world.beta.tenant_id, world.rival.tenant_id, "", "no-such-tenant"):
        answer = await api_get(browser, path, acme, tenant_id)
        assert answer.status_code == 403
        assert (answer.json()["Title"], answer.json()["Detail"]) == (
            "Forbidden",
            "AuthenticationUnsuccessful",
        )
    assert world.emulator.call_count(endpoint) == 4


@pytest.mark.parametrize(("path", "endpoint"), READS)
async def test_an_expired_or_unknown_token_is_unauthorised(
    world: World,
    browser: httpx.AsyncClient,
    acme: TokenSet,
    clock: Clock,
    path: str,
    endpoint: Endpoint,
) -> None:
    path = path_of(world, path)
    tenant = {"xero-tenant-id": world.acme.tenant_id}
    clock.advance(minutes=30)

    expired = await api_get(browser, path, acme, world.acme.tenant_id)
    forged = await browser.get(f"{API}/{path}", headers={**tenant, "Authorization": "Bearer x"})
    missing = await browser.get(f"{API}/{path}", headers=tenant)

    for answer in (expired, forged, missing):
        assert answer.status_code == 401
        assert answer.json()["Detail"] == "AuthenticationUnsuccessful"
        assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    ("scopes", "refused"),
    [
        (("offline_access", "accounting.settings.read"), {"contacts", "contact"}),
        (("offline_access", "accounting.contacts"), {"accounts", "tax_rates", "tracking"}),
        (("offline_access", "accounting.settings", "accounting.contacts"), set()),
    ],
)
async def test_a_read_the_grant_has_no_scope_for_is_unauthorised(
    world: World, browser: httpx.AsyncClient, scopes: tuple[str, ...], refused: set[str]
) -> None:
    async with make_client(world, scopes=scopes) as narrow:
        tokens = await consent(browser, narrow, "Acme Ltd — STANDARD")

    for path, endpoint in READS:
        answer = await api_get(browser, path_of(world, path), tokens, world.acme.tenant_id)
        if endpoint in refused:
            assert answer.status_code == 401, path
            assert answer.json()["Detail"] == "AuthorizationUnsuccessful"
        else:
            assert answer.status_code == 200, path


# --- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "endpoint"), READS)
async def test_faults_answer_each_read_then_it_answers_normally(
    world: World, browser: httpx.AsyncClient, acme: TokenSet, path: str, endpoint: Endpoint
) -> None:
    path = path_of(world, path)
    world.emulator.fail_next(endpoint, status=429, retry_after=3)
    world.emulator.fail_next(endpoint, status=500)
    world.emulator.fail_next(endpoint, status=200, delay=2.5)

    answers = [await api_get(browser, path, acme, world.acme.tenant_id) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 500, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert answers[0].headers["X-Rate-Limit-Problem"] == "minute"
    assert answers[1].json()["Detail"] == "Injected fault"
    assert world.emulator_sleeps == [2.5]
    assert world.emulator.call_count(endpoint) == 3


async def test_the_client_waits_out_a_429_and_retries_a_503_on_the_new_reads(
    world: World, client: XeroClient, acme: TokenSet
) -> None:
    world.emulator.fail_next("accounts", status=429, retry_after=2)
    world.emulator.fail_next("contacts", status=503, times=2)

    accounts = await client.accounts(access_token=acme.access_token, tenant_id=world.acme.tenant_id)
    contacts = await client.contacts(access_token=acme.access_token, tenant_id=world.acme.tenant_id)

    assert len(accounts) == len(world.emulator.books(world.acme.tenant_id).accounts)
    assert len(contacts) == 100
    assert world.client_sleeps == [2, 0.5, 1.0]
    assert (world.emulator.call_count("accounts"), world.emulator.call_count("contacts")) == (2, 3)


async def test_a_lost_answer_on_a_read_is_read_again(
    world: World, browser: httpx.AsyncClient
) -> None:
    async with make_client(world, transport=world.emulator.transport()) as client:
        tokens = await consent(browser, client, "Acme Ltd — STANDARD")
        world.emulator.lose_next_answers("tax_rates")

        rates = await client.tax_rates(
            access_token=tokens.access_token, tenant_id=world.acme.tenant_id
        )

    assert len(rates) == len(world.emulator.books(world.acme.tenant_id).tax_rates)
    assert world.emulator.call_count("tax_rates") == 2
