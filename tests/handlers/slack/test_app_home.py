"""The App Home: the overview for the helpdesk, one line for anyone else, and no refusal
audited for merely opening it."""

from __future__ import annotations

import pytest

from handlers.slack.blocks.attention import OUTSIDER_HOME
from sandbox.cloudpos_emulator import CloudPosEmulator
from tests.conftest import Clock
from tests.handlers.slack.admin_helpers import refusals, timed
from tests.handlers.slack.attention_helpers import (
    assert_many_within,
    assert_the_troubles,
    many_broken_stores,
    troubles,
    within_block_kit,
)
from tests.slack_fixtures import AGENT, OUTSIDER, Slack, published_home


@pytest.fixture
async def troubled(slack: Slack, cloudpos: CloudPosEmulator, clock: Clock) -> Slack:
    return await troubles(slack, cloudpos, clock)


async def test_the_home_of_a_helpdesk_user_is_the_overview(troubled: Slack, clock: Clock) -> None:
    await timed(troubled.driver.open_home(AGENT))

    home = await published_home(troubled, AGENT)
    assert home.view["type"] == "home"
    within_block_kit(home.blocks, most=100)
    assert home.blocks[0]["text"]["text"] == "What needs attention"
    assert_the_troubles(home.blocks, clock)

    await troubled.driver.open_home(AGENT)  # opened again: published again, up to date
    assert (await published_home(troubled, AGENT, count=2)).id == home.id


async def test_an_outsiders_home_says_whom_to_ask_and_no_refusal_is_audited(
    troubled: Slack,
) -> None:
    await timed(troubled.driver.open_home(OUTSIDER))

    home = await published_home(troubled, OUTSIDER)
    assert home.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": OUTSIDER_HOME}}]
    assert "ask a helpdesk admin" in OUTSIDER_HOME
    assert await refusals(troubled) == []

    await timed(troubled.command("attention", user=OUTSIDER))  # typing the command still is
    assert await refusals(troubled, count=1) == [(f"slack:{OUTSIDER}", "/xero attention")]


async def test_the_messages_tab_publishes_no_home(troubled: Slack) -> None:
    await timed(troubled.driver.open_home(AGENT, tab="messages"))
    await timed(troubled.driver.open_home(OUTSIDER))
    await published_home(troubled, OUTSIDER)
    assert [call.args["user_id"] for call in troubled.workspace.calls_to("views.publish")] == [
        OUTSIDER
    ]
    assert await refusals(troubled) == []


async def test_two_hundred_broken_stores_keep_within_a_home_views_blocks(slack: Slack) -> None:
    await many_broken_stores(slack.deps)

    await timed(slack.driver.open_home(AGENT))

    assert_many_within((await published_home(slack, AGENT)).blocks, most=100)
