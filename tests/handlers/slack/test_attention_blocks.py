"""The attention overview's Block Kit, from plain results: counts, grammar and limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.attention import Attention, Capacity
from bot.domain.results import CustomerAttention, JobRunView, OpenLink, StoreAttention
from bot.domain.sync_events import WebhookState
from handlers.slack.blocks.attention import (
    ALL_GOOD,
    attention_message,
    home_view,
    outsider_home_view,
    summary,
)
from handlers.slack.blocks.common import when
from storage.models import StoreStatus

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CALM = Attention(
    as_of=NOW,
    customers=(),
    customers_total=0,
    stores_total=0,
    waiting=(),
    waiting_total=0,
    expiring=(),
    expiring_total=0,
    plans=(),
    plans_total=0,
    capacity=Capacity(used=1, limit=50, tier="core", warning=""),
    jobs=(),
)


def link(number: int) -> OpenLink:
    return OpenLink(
        consent_request_id=number,
        store_codes=tuple(f"S{n:03d}" for n in range(30)),
        issued_by="slack:U0AGENT",
        expires_at=NOW + timedelta(hours=2),
        customer_name="Big & Busy " * 10,
        issued_at=NOW - timedelta(days=3),
    )


def customer(number: int, stores: int) -> CustomerAttention:
    broken = StoreAttention(
        code="S001",
        name="Till",
        status=StoreStatus.NEEDS_RECONNECT,
        organisation_name=None,
        reason="Xero no longer accepts the authorisation.",
        since=None,
    )
    return CustomerAttention(
        customer_id=number, customer_name=f"Customer {number}", stores=(broken,), total=stores
    )


def test_the_summary_counts_each_kind_with_its_grammar() -> None:
    assert summary(CALM) == ALL_GOOD
    one = replace(CALM, stores_total=1, customers_total=1, expiring_total=2, plans_total=1)
    assert summary(one) == (
        "1 store needs attention, 2 links expire within a day, 1 organisation flagged for its plan"
    )
    failed = JobRunView(job="check", holder="h", started_at=NOW, outcome="failed", error="x")
    running = JobRunView(job="other", holder="h", started_at=NOW)
    assert summary(replace(CALM, jobs=(failed, running))) == "1 job failed last time"
    full = replace(CALM, capacity=Capacity(used=50, limit=50, tier="core", warning="At limit"))
    assert summary(full) == "Xero connections near the limit"


def test_waiting_links_are_cut_within_a_section_and_counted() -> None:
    found = replace(CALM, waiting=tuple(link(n) for n in range(1, 41)), waiting_total=75)
    (section,) = [
        b for b in attention_message(found).blocks if "wait for the customer" in str(b.get("text"))
    ]
    text = section["text"]["text"]
    listed = text.count("\n• Link #")
    assert 0 < listed < 40
    assert len(text) <= 3000
    assert text.endswith(f"\n…and {75 - listed} more links")
    assert "issued by <@U0AGENT> 3 days ago" in text
    assert "Big &amp; Busy" in text


def test_customers_beyond_the_blocks_are_counted_not_dropped_silently() -> None:
    customers = tuple(customer(n, stores=2) for n in range(200))
    found = replace(CALM, customers=customers, customers_total=230, stores_total=470)
    message = attention_message(found)
    home = home_view(found)
    for blocks, most in ((message.blocks, 50), (home["blocks"], 100)):
        assert len(blocks) == most
        shown = [
            b for b in blocks if str(b.get("text", {}).get("text", "")).startswith("*Customer")
        ]
        assert shown[0]["text"]["text"].endswith("\n…and 1 more store")
        (rest,) = [b for b in blocks if b["type"] == "context" and "more customers" in str(b)]
        assert rest["elements"][0]["text"] == (
            f"…and {230 - len(shown)} more customers with {470 - 2 * len(shown)} stores that "
            "need attention."
        )


def test_an_outsiders_home_is_one_line() -> None:
    view = outsider_home_view()
    assert view["type"] == "home"
    (block,) = view["blocks"]
    assert "helpdesk" in block["text"]["text"]


def test_a_stuck_sync_webhook_shows_its_count_since_and_error_escaped() -> None:
    since = NOW - timedelta(minutes=28)
    stuck = WebhookState(
        waiting=12,
        oldest_waiting_since=since,
        last_error="the webhook answered HTTP 503 <!channel> & co",
        abandoned_last_day=2,
    )
    found = replace(CALM, webhook=stuck)
    assert not found.all_good
    assert summary(found) == "Sync webhook failing"

    for blocks in (attention_message(found).blocks, home_view(found)["blocks"]):
        (block,) = [b for b in blocks if "Sync webhook" in str(b)]
        assert block["text"]["text"] == (
            f":satellite_antenna: *Sync webhook*: 12 events waiting since {when(since)}; "
            "2 events abandoned in the last day (still in the events feed) — last error: "
            "the webhook answered HTTP 503 &lt;!channel&gt; &amp; co"
        )
    abandoned_only = WebhookState(
        waiting=0, oldest_waiting_since=None, last_error=None, abandoned_last_day=1
    )
    (block,) = [
        b
        for b in attention_message(replace(CALM, webhook=abandoned_only)).blocks
        if "Sync webhook" in str(b)
    ]
    assert block["text"]["text"] == (
        ":satellite_antenna: *Sync webhook*: 1 event abandoned in the last day "
        "(still in the events feed)"
    )
    assert "Sync webhook" not in str(attention_message(CALM).blocks)
