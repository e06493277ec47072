"""`/xero audit` reads as sentences: mentions, store codes and organisation names."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.domain.results import AuditEntry
from handlers.slack import ids
from handlers.slack.blocks import audit
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from tests.domain_helpers import registered
from tests.slack_fixtures import ADMIN, CHANNEL, Slack, connected_through_xero, issued_link
from tests.web_fixtures import Organisations


async def test_the_audit_trail_is_sentences(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, organisations: Organisations
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=2)
    token = await issued_link(slack, "link Acme S001 S002")
    await connected_through_xero(slack.deps, emulator, token, organisations.standard.tenant_id)
    await slack.command("disconnect Acme Acme Ltd", user=ADMIN)
    await slack.workspace.wait_for("response_url", count=2)
    confirmation = slack.workspace.ephemeral(CHANNEL, ADMIN)[-1]
    await slack.driver.click(confirmation, ids.DISCONNECT, user_id=ADMIN)
    await slack.workspace.wait_for("response_url", count=4)

    await slack.command("audit Acme", user=ADMIN)

    await slack.workspace.wait_for("response_url", count=5)
    trail = json.dumps(slack.workspace.ephemeral(CHANNEL, ADMIN)[-1].blocks, ensure_ascii=False)
    for sentence in (
        "<@U0AGENT> issued link #1 for `S001`, `S002`, usable until <!date^",
        "The customer opened link #1 and went on to Xero.",
        "olive@acme.test consented at Xero through link #1, allowing `Acme Ltd`.",
        "The customer chose organisations for link #1: `S001` → Acme Ltd, `S002` → Acme Ltd.",
        "The customer connected store `S001` to Acme Ltd.",
        "<@U0ADMIN> disconnected Acme Ltd from `S001`, `S002` (removed at Xero).",
        "registered the customer: Cloud POS group `acme`, ProPlus licence, 2 stores.",
    ):
        assert sentence in trail
    for raw in ("slack:U", "{'", "removed_at_xero", "consent_request_id", "True"):
        assert raw not in trail


def entry(action: str, detail: dict[str, object], actor: str = "slack:U0AGENT") -> AuditEntry:
    return AuditEntry(datetime(2026, 12, 3, tzinfo=UTC), actor, action, detail, store_code="S001")


def test_posting_set_up_events_read_as_sentences() -> None:
    before = {"sales_account_id": "a", "tax_type": "OUTPUT2", "payments": {"T1": {"x": 1}}}
    after = {"sales_account_id": "b", "tax_type": "OUTPUT2", "payments": {"T1": {"x": 2}}}
    sentences = [
        audit.sentence(entry("setup.changed", {"before": None, "after": after})),
        audit.sentence(entry("setup.changed", {"before": before, "after": after})),
        audit.sentence(entry("store.ready", {"organisation": "Acme <Ltd>"})),
        audit.sentence(
            entry("store.not_ready", {"reason": "disconnected from Xero"}, actor="system")
        ),
        audit.sentence(
            entry("setup.cleared", {"reason": "connected to another Xero organisation"})
        ),
    ]
    assert sentences == [
        "<@U0AGENT> set up the posting of store `S001`.",
        "<@U0AGENT> changed the posting set-up of store `S001`: sales account, payment accounts.",
        "<@U0AGENT> marked store `S001` ready for sync with Acme &lt;Ltd&gt;.",
        "Store `S001` stopped being ready for sync: disconnected from Xero.",
        "The posting set-up of store `S001` was cleared: connected to another Xero organisation.",
    ]


def test_what_the_sync_service_reports_and_abandoned_pushes_read_as_sentences() -> None:
    problem = entry(
        "sync.problem",
        {"store": "S001", "kind": "forbidden", "problem": "403 <!channel> *Invoices*"},
        actor="api:pos-sync",
    )
    abandoned = entry(
        "webhook.abandoned",
        {
            "event": 12,
            "type": "store.ready",
            "attempts": 17,
            "error": "the webhook answered HTTP 503",
        },
        actor="system",
    )
    assert audit.sentence(problem) == (
        "The sync service (pos-sync) reported that Xero refused store `S001` (forbidden): "
        "403 &lt;!channel&gt; *Invoices*."
    )
    assert audit.sentence(abandoned) == (
        "The bot gave up pushing event 12 (store.ready) of store `S001` to the sync webhook "
        "after 17 tries: the webhook answered HTTP 503."
    )
