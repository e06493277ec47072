"""Reminders: a link its customer has not finished with gets one reply in its record's
thread mentioning who issued it, and one more shortly before it expires; never again on
later runs. Its buttons send a fresh link (withdrawing this one) or revoke it."""

from __future__ import annotations

from datetime import timedelta

from bot import domain
from bot.domain import Dependencies
from bot.domain.reminders import ReminderReport
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message
from tests.conftest import Clock
from tests.domain_helpers import registered
from tests.handlers.slack.admin_helpers import timed
from tests.slack_fixtures import ADMIN, AGENT, CHANNEL, Slack

AFTER = timedelta(hours=24)


def buttons(message: Message) -> list[str]:
    return [
        element["text"]["text"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def section_text(message: Message) -> str:
    return str(message.blocks[0]["text"]["text"])


async def remind(deps: Dependencies) -> ReminderReport:
    return await domain.reminders.send_due(deps, after=AFTER)


async def issued(slack: Slack, cloudpos: CloudPosEmulator) -> Message:
    """Acme <Bikes>'s link #1 for S001 and S002, issued by the agent: its record."""
    await registered(slack.deps, cloudpos, name="Acme <Bikes>", stores=2)
    await slack.command('link "Acme <Bikes>" S001 S002')
    await slack.answer()
    [record] = slack.channel()
    return record


async def test_a_waiting_link_is_reminded_once_then_once_before_it_expires(
    slack: Slack, cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    record = await issued(slack, cloudpos)
    clock.advance(hours=23)
    assert await remind(slack.deps) == ReminderReport()
    assert slack.workspace.replies(CHANNEL, record.ts) == []

    clock.advance(hours=2)
    assert await remind(slack.deps) == ReminderReport(waiting=1)
    [reminder] = slack.workspace.replies(CHANNEL, record.ts)
    text = section_text(reminder)
    assert text.startswith(f":hourglass_flowing_sand: <@{AGENT}> the customer has not finished")
    assert "link #1 for *Acme &lt;Bikes&gt;* (`S001`, `S002`) after 25 hours" in text
    assert buttons(reminder) == ["Send a fresh link", "Revoke link"]

    for _ in range(3):
        clock.advance(hours=1)
        assert await remind(slack.deps) == ReminderReport()
    clock.advance(hours=38)  # 66 hours old: the link runs out in 6
    assert await remind(slack.deps) == ReminderReport(expiring=1)
    clock.advance(hours=1)
    assert await remind(slack.deps) == ReminderReport()
    [_, expiring] = slack.workspace.replies(CHANNEL, record.ts)
    assert section_text(expiring).startswith(
        f":alarm_clock: <@{AGENT}> link #1 for *Acme &lt;Bikes&gt;* (`S001`, `S002`) expires in "
        "6 hours"
    )
    clock.advance(hours=5)
    assert await remind(slack.deps) == ReminderReport()  # expired: nothing more


async def test_a_link_completed_or_revoked_in_time_is_never_reminded(
    slack: Slack, cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    record = await issued(slack, cloudpos)
    await domain.links.revoke(slack.deps, consent_request_id=1, actor=f"slack:{ADMIN}")
    clock.advance(hours=70)
    assert await remind(slack.deps) == ReminderReport()
    assert slack.workspace.replies(CHANNEL, record.ts) == []


async def test_a_link_expiring_within_a_day_of_its_issue_hears_only_that_it_expires(
    slack: Slack, cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    record = await issued(slack, cloudpos)
    clock.advance(hours=69)
    assert await remind(slack.deps) == ReminderReport(expiring=1)
    assert await remind(slack.deps) == ReminderReport()
    [only] = slack.workspace.replies(CHANNEL, record.ts)
    assert section_text(only).startswith(":alarm_clock:")


async def test_a_failing_slack_loses_no_reminder(
    slack: Slack, cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    await issued(slack, cloudpos)
    clock.advance(hours=25)
    slack.workspace.channels.pop(CHANNEL)
    assert await remind(slack.deps) == ReminderReport(failed=1)
    slack.workspace.add_channel(CHANNEL, "helpdesk")
    assert await remind(slack.deps) == ReminderReport(waiting=1)


async def test_send_a_fresh_link_replaces_the_waiting_one_for_the_clicker_only(
    slack: Slack, cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    record = await issued(slack, cloudpos)
    clock.advance(hours=25)
    await remind(slack.deps)
    [reminder] = slack.workspace.replies(CHANNEL, record.ts)

    await timed(slack.driver.click(reminder, ids.FRESH_LINK, user_id=AGENT))
    fresh = await slack.answer(count=2)

    assert "Consent link #2 for *Acme &lt;Bikes&gt;* (`S001`, `S002`)" in section_text(fresh)
    assert "/connect/" in fresh.text
    old = await domain.links.get(slack.deps, consent_request_id=1)
    assert old.status.value == "revoked"
    assert not old.usable
    [first, second] = slack.channel()
    assert "replaced by link #2" in str(first.blocks)
    assert "Consent link #2" in second.text
    assert slack.workspace.replies(CHANNEL, record.ts)[0] == reminder  # still there, unchanged
    assert all("/connect/" not in m.text for m in slack.workspace.replies(CHANNEL, record.ts))

    await timed(slack.driver.click(reminder, ids.FRESH_LINK, user_id=AGENT))
    again = await slack.answer(count=3)
    assert again.text.startswith(":lock: Link #1 was withdrawn by")
    assert len(slack.channel()) == 2  # no third link


async def test_revoke_on_a_reminder_is_for_admins(
    slack: Slack, cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    record = await issued(slack, cloudpos)
    clock.advance(hours=25)
    await remind(slack.deps)
    [reminder] = slack.workspace.replies(CHANNEL, record.ts)

    await timed(slack.driver.click(reminder, ids.REVOKE_LINK, user_id=AGENT))
    await slack.workspace.wait_for("chat.postEphemeral")
    refused = slack.workspace.ephemeral(CHANNEL, AGENT)[-1]
    assert refused.thread_ts == record.ts
    assert refused.text.startswith(":warning: Only helpdesk admins can revoke consent links")
    assert (await domain.links.get(slack.deps, consent_request_id=1)).usable

    await timed(slack.driver.click(reminder, ids.REVOKE_LINK, user_id=ADMIN))
    await slack.workspace.wait_for("response_url", count=2)
    view = await domain.links.get(slack.deps, consent_request_id=1)
    assert (view.status.value, view.finished_by) == ("revoked", f"slack:{ADMIN}")
    assert "revoked by" in str(slack.channel()[0].blocks)
