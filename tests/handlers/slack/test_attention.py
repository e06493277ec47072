"""`/xero attention`: what needs the helpdesk now, as Slack delivers it to the agent."""

from __future__ import annotations

import json

import pytest

from bot import domain
from bot.domain import sync_events
from handlers.slack.blocks.attention import ALL_GOOD
from handlers.slack.blocks.common import when
from sandbox.cloudpos_emulator import CloudPosEmulator
from tests.conftest import Clock
from tests.domain.test_sync_webhook import add_events
from tests.domain_helpers import registered
from tests.handlers.slack.admin_helpers import timed
from tests.handlers.slack.attention_helpers import (
    assert_many_within,
    assert_the_troubles,
    job_ran,
    many_broken_stores,
    shown,
    troubles,
    within_block_kit,
)
from tests.slack_fixtures import Slack


@pytest.fixture
async def troubled(slack: Slack, cloudpos: CloudPosEmulator, clock: Clock) -> Slack:
    return await troubles(slack, cloudpos, clock)


async def test_attention_lists_every_kind_of_trouble_escaped(troubled: Slack, clock: Clock) -> None:
    await timed(troubled.command("attention"))

    answer = await troubled.answer()
    assert answer.text == (
        "3 stores need attention, 1 link expires within a day, 1 organisation flagged for its "
        "plan, Xero connections near the limit"
    )
    within_block_kit(answer.blocks, most=50)
    assert answer.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Needs attention"},
    }
    assert_the_troubles(answer.blocks, clock)
    assert ALL_GOOD not in shown(answer.blocks)


async def test_nothing_to_attend_is_all_good_with_the_waiting_links_still_listed(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    calm = await registered(slack.deps, cloudpos, name="Calm", stores=1)
    await domain.links.issue(slack.deps, customer_id=calm.id, store_codes=None, actor="slack:U1")

    await timed(slack.command("attention"))

    answer = await slack.answer()
    assert answer.text == ALL_GOOD
    text = shown(answer.blocks)
    assert f":white_check_mark: *{ALL_GOOD}* No store needs reconnecting" in text
    assert "1 link waits for the customer" in text
    assert "need attention" not in text
    assert "Xero connections: 0 of the 5 the app's starter tier allows." in text
    assert ":gear: No scheduled job has run yet." in text


async def test_a_failed_job_needs_attention_and_its_error_is_escaped(slack: Slack) -> None:
    await job_ran(
        slack.deps, "connection_check", outcome="failed", error="ValueError: <!here> & co"
    )

    await slack.command("attention")

    answer = await slack.answer()
    assert answer.text == "1 job failed last time"
    assert ":x: failed: ValueError: &lt;!here&gt; &amp; co" in shown(answer.blocks)
    assert "<!here>" not in json.dumps(answer.blocks)


async def test_attention_takes_no_customer(slack: Slack) -> None:
    await slack.command("attention Acme")
    answer = await slack.answer()
    assert answer.text.startswith(":warning: `/xero attention` takes no customer")


async def test_two_hundred_broken_stores_keep_within_a_messages_blocks(slack: Slack) -> None:
    await many_broken_stores(slack.deps)

    await timed(slack.command("attention"))

    answer = await slack.answer()
    assert answer.text == "200 stores need attention"
    assert_many_within(answer.blocks, most=50)


class Unavailable:
    async def deliver(self, *, event_id: int, body: bytes) -> str | None:
        return "the webhook answered HTTP 503 <!here>"


async def test_a_stuck_sync_webhook_needs_attention_and_its_error_is_escaped(
    slack: Slack, clock: Clock
) -> None:
    await add_events(slack.deps, "A", "B")
    await sync_events.deliver_due(slack.deps, receiver=Unavailable())
    since = clock.now
    clock.advance(minutes=6)
    await sync_events.deliver_due(slack.deps, receiver=Unavailable())

    await timed(slack.command("attention"))

    answer = await slack.answer()
    assert answer.text == "Sync webhook failing"
    within_block_kit(answer.blocks, most=50)
    assert (
        f":satellite_antenna: *Sync webhook*: 2 events waiting since {when(since)} — last "
        "error: the webhook answered HTTP 503 &lt;!here&gt;"
    ) in shown(answer.blocks)
    assert "<!here>" not in json.dumps(answer.blocks)
