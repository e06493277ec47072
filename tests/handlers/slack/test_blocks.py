"""Messages stay within Slack's limits however large the customer, and escape what they show."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.notify import ConsentEvent, ConsentEventKind
from bot.domain.results import (
    ConsentLink,
    ConsentView,
    CustomerView,
    OrganisationGroup,
    OrganisationOption,
    StoreView,
    Summary,
)
from handlers.slack import ids
from handlers.slack.blocks.common import Message, listing
from handlers.slack.blocks.customers import customer_card
from handlers.slack.blocks.links import link_for_agent, organisation_choice
from handlers.slack.blocks.summary import summary_message
from storage.models import GrantStatus, StoreStatus

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def stores(count: int, *, status: StoreStatus = StoreStatus.NOT_CONNECTED) -> tuple[StoreView, ...]:
    return tuple(
        StoreView(id=n, code=f"S{n:04}", name=f"Store number {n} — Main Street", status=status)
        for n in range(1, count + 1)
    )


def customer(store_count: int) -> CustomerView:
    return CustomerView(
        id=7, name="Big Retail", cloudpos_group="big", licence="ProPlus", stores=stores(store_count)
    )


def assert_within_limits(message: Message) -> None:
    assert len(message.blocks) <= 50
    for block in message.blocks:
        text = json.dumps(block)
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            assert len(element.get("value", "")) <= 2000
            assert len(element.get("options", [])) <= 100
        assert "<script>" not in text


@pytest.mark.parametrize("page", range(8))
def test_a_customer_with_150_stores_is_paged(page: int) -> None:
    message = customer_card(customer(150), page=page)
    assert_within_limits(message)
    shown = [
        b
        for b in message.blocks
        if b["type"] == "section"
        and "accessory" in b
        and b["accessory"]["action_id"] == ids.SEND_LINK_FOR_STORE
    ]
    assert len(shown) == (20 if page < 7 else 10)
    buttons = [
        e["action_id"] + e["value"]
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert any(ids.STORES_PAGE in b and f'"p":{page + 1}' in b for b in buttons) == (page < 7)
    assert any(ids.STORES_PAGE in b and f'"p":{page - 1}' in b for b in buttons) == (page > 0)


def test_120_organisations_are_paged_in_the_summary() -> None:
    groups = tuple(
        OrganisationGroup(
            tenant_id=f"tenant-{n}",
            tenant_name=f"Organisation {n:03}",
            plan_label="Standard",
            plan_recognised=True,
            eligible=True,
            grant_status=GrantStatus.ACTIVE,
            connected_by="owner@example.com",
            linked_at=NOW,
            stores=stores(40, status=StoreStatus.CONNECTED),
        )
        for n in range(120)
    )
    summary = Summary(customer=customer(0), groups=groups, not_connected=stores(300))
    pages = [summary_message(summary, page=page, can_disconnect=True) for page in range(10)]
    for message in pages:
        assert_within_limits(message)
    names = [
        b["text"]["text"].split("*")[1]
        for m in pages
        for b in m.blocks
        if b["type"] == "section" and b.get("accessory", {}).get("action_id") == ids.DISCONNECT
    ]
    assert names == [f"Organisation {n:03}" for n in range(120)]
    assert "Not connected" in json.dumps(pages[-1].blocks)
    assert "and " in json.dumps(pages[-1].blocks)  # 300 stores summarised, not listed in full


def test_only_admins_see_disconnect_and_it_asks_naming_the_organisation() -> None:
    group = OrganisationGroup(
        tenant_id="tenant-3",
        tenant_name="Acme Ltd",
        plan_label="Standard",
        plan_recognised=True,
        eligible=True,
        grant_status=GrantStatus.ACTIVE,
        connected_by="x",
        linked_at=NOW,
        stores=stores(2, status=StoreStatus.CONNECTED),
    )
    summary = Summary(customer=customer(0), groups=(group,), not_connected=())
    assert ids.DISCONNECT not in json.dumps(summary_message(summary).blocks)
    message = summary_message(summary, can_disconnect=True)
    button = next(
        b["accessory"]
        for b in message.blocks
        if b.get("accessory", {}).get("action_id") == ids.DISCONNECT
    )
    assert button["style"] == "danger"
    assert "*Acme Ltd*" in button["confirm"]["text"]["text"]
    assert "S0001, S0002" in button["confirm"]["text"]["text"]
    assert json.loads(button["value"]) == {"c": 7, "t": "tenant-3"}


def test_names_are_escaped_in_mrkdwn() -> None:
    evil = CustomerView(
        id=1,
        name="<!channel> & <script>",
        cloudpos_group="g",
        licence="ProPlus",
        stores=(StoreView(1, "S1", "<@U123> shop", StoreStatus.NOT_CONNECTED),),
    )
    mrkdwn = json.dumps(mrkdwn_texts(customer_card(evil).blocks))
    assert "<!channel>" not in mrkdwn
    assert "<@U123>" not in mrkdwn
    assert "&lt;@U123&gt; shop" in mrkdwn


def mrkdwn_texts(value: object) -> list[str]:
    """Every text Slack would parse as mrkdwn (plain_text shows mentions literally)."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            return [value["text"]]
        return [text for item in value.values() for text in mrkdwn_texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in mrkdwn_texts(item)]
    return []


def test_an_organisation_choice_offers_only_eligible_organisations() -> None:
    consent = ConsentView(
        consent_request_id=9,
        customer_id=1,
        customer_name="Acme",
        status="authorised",
        expires_at=NOW,
        stores=stores(60),
        organisations=(
            OrganisationOption(1, "Good Ltd", "Standard", True),
            OrganisationOption(2, "Small Ltd", "Starter", False, "Starter plan — no"),
        ),
    )
    message = organisation_choice(consent)
    assert_within_limits(message)
    selects = [b["accessory"] for b in message.blocks if b.get("block_id", "").startswith("store:")]
    assert len(selects) == 40
    assert {o["text"]["text"] for s in selects for o in s["options"]} == {"Good Ltd (Standard)"}
    event = ConsentEvent(ConsentEventKind.AUTHORISED, consent)
    assert event.kind == ConsentEventKind.AUTHORISED


def test_the_agents_link_message_carries_the_link_and_the_buttons() -> None:
    link = ConsentLink(
        consent_request_id=4,
        customer_id=1,
        customer_name="Acme",
        url="https://bot/connect/t0k",
        expires_at=NOW + timedelta(hours=72),
        store_codes=("S1", "S2"),
    )
    for can_revoke, buttons in ((False, [ids.POST_LINK]), (True, [ids.POST_LINK, ids.REVOKE_LINK])):
        message = link_for_agent(link, sealed_link="sealed", can_revoke=can_revoke)
        assert_within_limits(message)
        assert "https://bot/connect/t0k" in json.dumps(message.blocks)
        actions = next(b for b in message.blocks if b["type"] == "actions")["elements"]
        assert [a["action_id"] for a in actions] == buttons


def test_the_agents_link_message_warns_near_the_apps_xero_limit() -> None:
    link = ConsentLink(
        consent_request_id=4,
        customer_id=1,
        customer_name="Acme",
        url="https://bot/connect/t0k",
        expires_at=NOW + timedelta(hours=72),
        store_codes=("S1",),
        warning="The app has 4 of the 5 <Xero> organisations…",
    )
    message = link_for_agent(link, sealed_link="sealed")
    assert_within_limits(message)
    assert message.blocks[1]["text"]["text"] == (
        ":warning: The app has 4 of the 5 &lt;Xero&gt; organisations…"
    )
    plain = link_for_agent(dataclasses.replace(link, warning=""), sealed_link="sealed")
    assert ":warning:" not in json.dumps(plain.blocks)


def test_listing_says_how_many_were_left_out() -> None:
    assert listing(["a", "b", "c"], limit=100) == "a, b, c"
    assert listing([f"item{n}" for n in range(100)], limit=40).endswith("more")
    assert len(listing([f"item{n}" for n in range(100)], limit=40)) <= 40
