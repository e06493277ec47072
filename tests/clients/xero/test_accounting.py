"""The accounting reads of posting set-up, each call's request and how its answer is read:
the chart of accounts, tax rates and tracking categories, archived and odd entries included.
Contacts are in test_accounting_contacts, what every read shares in test_accounting_failures.
"""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from bot.clients.xero import XeroClient
from bot.domain.errors import ExternalServiceError
from bot.domain.ports import XeroAccount, XeroTaxRate, XeroTrackingCategory, XeroTrackingOption
from tests.clients.xero.accounting_fixtures import (
    ACCOUNTS_URL,
    BANK_ID,
    CALLS,
    OLD_ID,
    SALES_ID,
    TAX_RATES_URL,
    TRACKING_URL,
    account_json,
    assert_one_tenant_get,
)
from tests.clients.xero.xero_fixtures import ACCESS, TENANT_A

# --- accounts -------------------------------------------------------------------------------


async def test_accounts_reads_the_whole_chart(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(ACCOUNTS_URL).respond(
        json={
            "Id": "ignored",
            "Accounts": [
                account_json(),
                account_json(
                    AccountID=BANK_ID,
                    Code=None,
                    Name="  Card clearing  ",
                    Type="BANK",
                    Class="ASSET",
                    EnablePaymentsToAccount=True,
                ),
                account_json(AccountID=OLD_ID, Code=" 260 ", Name="Old sales", Status="ARCHIVED"),
            ],
        }
    )
    accounts = await client.accounts(access_token=ACCESS, tenant_id=TENANT_A)
    assert accounts == [
        XeroAccount(
            account_id=SALES_ID,
            code="200",
            name="Sales",
            type="REVENUE",
            account_class="REVENUE",
            status="ACTIVE",
            enable_payments=False,
        ),
        XeroAccount(
            account_id=BANK_ID,
            code="",
            name="Card clearing",
            type="BANK",
            account_class="ASSET",
            status="ACTIVE",
            enable_payments=True,
        ),
        XeroAccount(
            account_id=OLD_ID,
            code="260",
            name="Old sales",
            type="REVENUE",
            account_class="REVENUE",
            status="ARCHIVED",
            enable_payments=False,
        ),
    ]
    request = assert_one_tenant_get(route)
    assert request.url.path == "/api.xro/2.0/Accounts"
    assert request.url.query == b""


async def test_accounts_skips_malformed_entries_and_keeps_the_rest(
    client: XeroClient, xero_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    bare = {"AccountID": "bare", "Name": "Bare", "Type": "FUTURETYPE"}
    xero_api.get(ACCOUNTS_URL).respond(
        json={
            "Accounts": [
                "not an object",
                account_json(AccountID=None),
                account_json(AccountID=""),
                account_json(AccountID="x" * 65),
                account_json(Name=7),
                account_json(Name="   "),
                account_json(Code=200),
                account_json(Code="C" * 51),
                account_json(Status=["ACTIVE"]),
                account_json(EnablePaymentsToAccount="yes"),
                bare,
                account_json(Name="N" * 300),
            ]
        }
    )
    with caplog.at_level(logging.WARNING):
        accounts = await client.accounts(access_token=ACCESS, tenant_id=TENANT_A)
    assert accounts == [
        XeroAccount(
            account_id="bare",
            code="",
            name="Bare",
            type="FUTURETYPE",
            account_class="",
            status="",
            enable_payments=False,
        ),
        XeroAccount(
            account_id=SALES_ID,
            code="200",
            name="N" * 199 + "…",
            type="REVENUE",
            account_class="REVENUE",
            status="ACTIVE",
            enable_payments=False,
        ),
    ]
    assert "10 malformed entries" in caplog.text
    assert "has no text 'AccountID'" in caplog.text


async def test_accounts_are_bounded(client: XeroClient, xero_api: respx.MockRouter) -> None:
    many = [account_json(AccountID=f"id-{number}", Code=str(number)) for number in range(5003)]
    xero_api.get(ACCOUNTS_URL).respond(json={"Accounts": many})
    accounts = await client.accounts(access_token=ACCESS, tenant_id=TENANT_A)
    assert len(accounts) == 5000
    assert accounts[-1].account_id == "id-4999"


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="{not json"),
        httpx.Response(200, json=[]),
        httpx.Response(200, json={"Something": []}),
        httpx.Response(200, json={"Accounts": {}, "TaxRates": {}, "Contacts": "x"}),
    ],
    ids=["not-json", "list", "no-key", "not-a-list"],
)
async def test_wrong_top_level_shape_is_unreadable(
    client: XeroClient, xero_api: respx.MockRouter, name: str, response: httpx.Response
) -> None:
    url, call = CALLS[name]
    xero_api.get(url).mock(return_value=response)
    with pytest.raises(ExternalServiceError) as caught:
        await call(client, TENANT_A)
    assert not caught.value.retryable
    assert caught.value.message.startswith("Xero sent an answer the bot could not read")


# --- tax rates ------------------------------------------------------------------------------


async def test_tax_rates_keep_every_status_and_write_the_rate_with_four_decimals(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(TAX_RATES_URL).respond(
        json={
            "TaxRates": [
                {"Name": "20% (VAT on Income)", "TaxType": "OUTPUT2", "Status": "ACTIVE",
                 "EffectiveRate": 20.0, "DisplayTaxRate": 20.0, "CanApplyToRevenue": True},
                {"Name": "Reduced", "TaxType": "RROUTPUT", "Status": "ARCHIVED",
                 "EffectiveRate": 5},
                {"Name": "Zero", "TaxType": "ZERORATEDOUTPUT", "Status": "DELETED",
                 "EffectiveRate": 0},
                {"Name": "Odd", "TaxType": "TAX001", "EffectiveRate": 12.3456789},
            ]
        }
    )  # fmt: skip
    rates = await client.tax_rates(access_token=ACCESS, tenant_id=TENANT_A)
    assert rates == [
        XeroTaxRate(
            tax_type="OUTPUT2",
            name="20% (VAT on Income)",
            status="ACTIVE",
            effective_rate="20.0000",
        ),
        XeroTaxRate(
            tax_type="RROUTPUT", name="Reduced", status="ARCHIVED", effective_rate="5.0000"
        ),
        XeroTaxRate(
            tax_type="ZERORATEDOUTPUT", name="Zero", status="DELETED", effective_rate="0.0000"
        ),
        XeroTaxRate(tax_type="TAX001", name="Odd", status="", effective_rate="12.3457"),
    ]
    request = assert_one_tenant_get(route)
    assert request.url.path == "/api.xro/2.0/TaxRates"
    assert request.url.query == b""


async def test_tax_rates_skip_malformed_entries(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    xero_api.get(TAX_RATES_URL).respond(
        text=(
            '{"TaxRates": [1, {"Name": "A", "EffectiveRate": 1},'
            ' {"Name": "B", "TaxType": "B", "EffectiveRate": "20.0000"},'
            ' {"Name": "C", "TaxType": "C", "EffectiveRate": true},'
            ' {"Name": "D", "TaxType": "D"},'
            ' {"Name": "E", "TaxType": "E", "EffectiveRate": NaN},'
            ' {"Name": "F", "TaxType": "F", "EffectiveRate": 1e400},'
            ' {"Name": "G", "TaxType": "G", "EffectiveRate": 10000000},'
            ' {"TaxType": "H", "EffectiveRate": 1},'
            ' {"Name": "Standard", "TaxType": "OUTPUT2", "Status": "ACTIVE", "EffectiveRate": 17.5}'
            "]}"
        ),
        headers={"Content-Type": "application/json"},
    )
    rates = await client.tax_rates(access_token=ACCESS, tenant_id=TENANT_A)
    assert rates == [
        XeroTaxRate(tax_type="OUTPUT2", name="Standard", status="ACTIVE", effective_rate="17.5000")
    ]


# --- tracking categories --------------------------------------------------------------------


async def test_tracking_categories_include_archived_with_their_options(
    client: XeroClient, xero_api: respx.MockRouter
) -> None:
    route = xero_api.get(TRACKING_URL).respond(
        json={
            "TrackingCategories": [
                {
                    "TrackingCategoryID": "cat-region",
                    "Name": "Region",
                    "Status": "ACTIVE",
                    "Options": [
                        {"TrackingOptionID": "opt-north", "Name": "North", "Status": "ACTIVE"},
                        {"TrackingOptionID": "opt-old", "Name": "Old town", "Status": "ARCHIVED"},
                        {"Name": "no id"},
                        "junk",
                        {"TrackingOptionID": "opt-bare", "Name": "Bare"},
                    ],
                },
                {"TrackingCategoryID": "cat-old", "Name": "Old", "Status": "ARCHIVED"},
                {"TrackingCategoryID": "cat-bad", "Name": "Bad", "Options": {"x": 1}},
                {"Name": "No id", "Options": []},
            ]
        }
    )
    categories = await client.tracking_categories(access_token=ACCESS, tenant_id=TENANT_A)
    assert categories == [
        XeroTrackingCategory(
            category_id="cat-region",
            name="Region",
            status="ACTIVE",
            options=(
                XeroTrackingOption(option_id="opt-north", name="North", status="ACTIVE"),
                XeroTrackingOption(option_id="opt-old", name="Old town", status="ARCHIVED"),
                XeroTrackingOption(option_id="opt-bare", name="Bare", status=""),
            ),
        ),
        XeroTrackingCategory(category_id="cat-old", name="Old", status="ARCHIVED", options=()),
    ]
    request = assert_one_tenant_get(route)
    assert request.url.path == "/api.xro/2.0/TrackingCategories"
    assert dict(request.url.params) == {"includeArchived": "true"}


async def test_tracking_options_are_bounded(client: XeroClient, xero_api: respx.MockRouter) -> None:
    options = [{"TrackingOptionID": f"o{n}", "Name": f"Shop {n}"} for n in range(1200)]
    xero_api.get(TRACKING_URL).respond(
        json={"TrackingCategories": [{"TrackingCategoryID": "c", "Name": "C", "Options": options}]}
    )
    [category] = await client.tracking_categories(access_token=ACCESS, tenant_id=TENANT_A)
    assert len(category.options) == 1000
    assert category.options[-1].option_id == "o999"
