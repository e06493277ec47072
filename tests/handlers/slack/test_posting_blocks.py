"""The posting set-up modal and the checklist stay within Slack's limits and escape what
Xero and Cloud POS named, for a store with 30 payment types and a large chart of accounts."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.domain.ports import Tender
from bot.domain.posting_values import (
    STEPS,
    Checklist,
    Choice,
    InvoiceStatus,
    PostingChoices,
    SetupForm,
    SetupSaved,
    TrackingChoices,
)
from bot.domain.results import (
    ConsentView,
    CustomerView,
    OrganisationGroup,
    OrganisationOption,
    StoreView,
    Summary,
)
from handlers.slack import ids
from handlers.slack.blocks.customers import customer_card
from handlers.slack.blocks.links import organisation_choice
from handlers.slack.blocks.posting import checklist_line, saved_view, setup_view
from handlers.slack.blocks.summary import summary_message
from storage.models import ConsentStatus, GrantStatus, StoreStatus

COMPLETE = Checklist(
    pro_plus=True, connected=True, plan_eligible=True, steps_done=len(STEPS), ready=False
)


def accounts(count: int, prefix: str = "acc") -> tuple[Choice, ...]:
    return tuple(Choice(f"{prefix}-{n}", f"{n:03} · Account <{n}> & co") for n in range(count))


def a_form(*, tenders: int = 30, sales: int = 5, **changes: Any) -> SetupForm:
    form = SetupForm(
        customer_id=7,
        customer_name="Acme",
        store_code="S001",
        store_name="Main <b>Street</b>",
        organisation_name="Acme & Sons *Ltd*",
        tenders=tuple(Tender(f"t{n}", f"Tender <{n}>", "Card") for n in range(tenders)),
        sales_accounts=accounts(sales, "sales"),
        payment_accounts=accounts(8, "pay"),
        rounding_accounts=accounts(3, "round"),
        gift_card_accounts=accounts(2, "gift"),
        tax_rates=(Choice("OUTPUT2", "GST on Income (15%)"), Choice("NONE", "No GST (0%)")),
        tracking=(
            TrackingChoices("cat-1", "Region", (Choice("o1", "North"), Choice("o2", "South"))),
            TrackingChoices("cat-2", "Store", (Choice("o3", "Main"),)),
        ),
        current=PostingChoices(),
        copy_sources=(Choice("S002", "Second (S002)"),),
        earliest_start=date(2026, 11, 1),
        today=date(2026, 12, 3),
        checklist=dataclasses.replace(COMPLETE, steps_done=0),
    )
    return dataclasses.replace(form, **changes)


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


def test_a_store_with_30_payment_types_fits_one_modal() -> None:
    view = setup_view(a_form(tenders=30))
    assert len(view["blocks"]) <= 100
    assert len(json.dumps(view)) < 250_000
    blocks = inputs(view)
    payment_blocks = [key for key in blocks if key.startswith("payment:")]
    assert len(payment_blocks) == 30
    assert {blocks[key]["element"]["action_id"] for key in payment_blocks} == {ids.SETUP_PAYMENT}
    assert len({block.get("block_id") for block in view["blocks"] if "block_id" in block}) == len(
        [block for block in view["blocks"] if "block_id" in block]
    )
    for block in view["blocks"]:
        element = block.get("element") or {}
        assert len(element.get("options", [])) <= 100
        assert len(block.get("label", {}).get("text", "")) <= 2000


def test_more_than_100_accounts_become_a_search() -> None:
    view = setup_view(a_form(sales=150))
    sales = inputs(view)[ids.SETUP_SALES]["element"]
    assert sales["type"] == "external_select"
    assert sales["action_id"] == ids.SETUP_SALES
    assert "options" not in sales


def test_what_is_stored_is_picked_where_xero_still_offers_it() -> None:
    current = PostingChoices(
        sales_account_id="sales-2",
        tax_type="GONE",
        payments={"t0": "pay-3"},
        tracking_category_id="cat-1",
        tracking_option_id="o2",
        contact_id="c-1",
        contact_name="Cash Sales",
        invoice_status=InvoiceStatus.AUTHORISED,
        start_date=date(2026, 11, 20),
    )
    blocks = inputs(setup_view(a_form(current=current)))
    assert blocks[ids.SETUP_SALES]["element"]["initial_option"]["value"] == "sales-2"
    assert "initial_option" not in blocks[ids.SETUP_TAX]["element"]
    assert blocks["payment:t0"]["element"]["initial_option"]["value"] == "pay-3"
    assert "initial_option" not in blocks["payment:t1"]["element"]
    tracking = blocks[ids.SETUP_TRACKING]["element"]
    assert tracking["initial_option"]["value"] == ids.tracking_value("cat-1", "o2")
    assert [group["label"]["text"] for group in tracking["option_groups"]] == ["Region", "Store"]
    assert blocks[ids.SETUP_CONTACT]["element"]["initial_option"]["text"]["text"] == "Cash Sales"
    assert blocks[ids.SETUP_INVOICE]["element"]["initial_option"]["value"] == "AUTHORISED"
    assert blocks[ids.SETUP_START]["element"]["initial_date"] == "2026-11-20"
    assert "1 Nov 2026" in blocks[ids.SETUP_START]["hint"]["text"]


def test_a_step_the_organisation_offers_nothing_for_says_so() -> None:
    blocks = inputs(setup_view(a_form(rounding_accounts=(), gift_card_accounts=(), tracking=())))
    rounding = blocks[ids.SETUP_ROUNDING]
    assert [o["value"] for o in rounding["element"]["options"]] == [ids.NOTHING_FITS]
    assert "add it in Xero" in rounding["hint"]["text"]
    assert ids.SETUP_GIFT_CARD not in blocks
    assert ids.SETUP_TRACKING not in blocks


def test_names_from_xero_and_cloudpos_are_escaped_in_mrkdwn() -> None:
    text = json.dumps(setup_view(a_form()))
    assert "Main &lt;b&gt;Street&lt;/b&gt;" in text
    assert "<b>" not in text.replace("Tender <", "")  # plain-text labels are shown literally


def test_the_saved_view_offers_the_last_step_only_when_it_is_next() -> None:
    saved = SetupSaved("S001", "Main", "Acme Ltd", COMPLETE, changed=True)
    ready = saved_view(saved, customer_id=7, can_mark_ready=True)
    actions = [b for b in ready["blocks"] if b["type"] == "actions"]
    assert actions[0]["elements"][0]["action_id"] == ids.SETUP_READY
    assert ids.decode(actions[0]["elements"][0]["value"]) == {"c": 7, "s": "S001"}
    viewer = saved_view(saved, customer_id=7, can_mark_ready=False)
    assert not [b for b in viewer["blocks"] if b["type"] == "actions"]
    incomplete = dataclasses.replace(saved, checklist=dataclasses.replace(COMPLETE, steps_done=3))
    blocked = json.dumps(saved_view(incomplete, customer_id=7, can_mark_ready=True))
    assert "3 of 7 done" in blocked
    assert ids.SETUP_READY not in blocked


@pytest.mark.parametrize(
    ("checklist", "words"),
    [
        (COMPLETE, "posting set-up complete"),
        (dataclasses.replace(COMPLETE, steps_done=3), "posting set-up 3 of 7 done"),
        (dataclasses.replace(COMPLETE, ready=True), ":large_green_circle: ready for sync"),
        (dataclasses.replace(COMPLETE, pro_plus=False), ":white_large_square: Pro Plus licence"),
    ],
)
def test_the_checklist_line(checklist: Checklist, words: str) -> None:
    assert words in checklist_line(checklist)


def connected(count: int, checklist: Checklist | None = COMPLETE) -> tuple[StoreView, ...]:
    return tuple(
        StoreView(
            id=n,
            code=f"S{n:03}",
            name=f"Store {n}",
            status=StoreStatus.CONNECTED,
            organisation_name="Acme Ltd",
            checklist=checklist,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("page", range(3))
def test_a_card_of_connected_stores_keeps_within_50_blocks(page: int) -> None:
    customer = CustomerView(7, "Acme", "acme", "ProPlus", connected(45))
    blocks = customer_card(customer, page=page).blocks
    assert len(blocks) <= 50
    actions = [
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") in {ids.SETUP_OPEN, ids.SETUP_READY}
    ]
    assert {element["action_id"] for element in actions} == {ids.SETUP_OPEN, ids.SETUP_READY}


def test_a_ready_store_is_not_offered_mark_ready_again() -> None:
    store = connected(1, dataclasses.replace(COMPLETE, ready=True))
    text = json.dumps(customer_card(CustomerView(7, "Acme", "acme", "ProPlus", store)).blocks)
    assert ids.SETUP_OPEN in text
    assert ids.SETUP_READY not in text
    assert "ready for sync" in text


def test_the_summary_counts_ready_stores_and_offers_their_set_up() -> None:
    stores = connected(3, COMPLETE)[:2] + connected(1, dataclasses.replace(COMPLETE, ready=True))
    group = OrganisationGroup(
        tenant_id="t-1",
        tenant_name="Acme Ltd",
        plan_label="Standard",
        plan_recognised=True,
        eligible=True,
        grant_status=GrantStatus.ACTIVE,
        connected_by="Pat",
        linked_at=datetime(2026, 11, 1, tzinfo=UTC),
        stores=stores,
    )
    customer = CustomerView(7, "Acme", "acme", "ProPlus", stores)
    summary = Summary(customer=customer, groups=(group,), not_connected=())
    text = json.dumps(summary_message(summary, can_disconnect=False).blocks)
    assert "1 of 3 ready for sync" in text
    assert ids.SETUP_OPEN in text


def test_the_organisation_choice_warns_where_a_set_up_would_be_cleared() -> None:
    options = (
        OrganisationOption(1, "Acme Ltd", "Standard", True, tenant_id="t-acme"),
        OrganisationOption(2, "Other <Ltd>", "Standard", True, tenant_id="t-other"),
    )
    stores = (
        StoreView(1, "S001", "Main", StoreStatus.CONSENT_SENT, setup_tenant_id="t-acme"),
        StoreView(2, "S002", "Side", StoreStatus.CONSENT_SENT, setup_tenant_id="t-gone"),
        StoreView(3, "S003", "New", StoreStatus.CONSENT_SENT),
    )
    consent = ConsentView(
        consent_request_id=1,
        customer_id=7,
        customer_name="Acme",
        status=ConsentStatus.AUTHORISED,
        expires_at=datetime(2026, 12, 10, tzinfo=UTC),
        stores=stores,
        organisations=options,
    )
    sections = {
        block["block_id"]: block["text"]["text"]
        for block in organisation_choice(consent).blocks
        if block.get("block_id", "").startswith(ids.STORE_CHOICE_BLOCK_PREFIX)
    }
    assert "kept with Acme Ltd, cleared by any other organisation" in sections["store:S001"]
    assert "cleared by any organisation chosen here" in sections["store:S002"]
    assert ":warning:" not in sections["store:S003"]
