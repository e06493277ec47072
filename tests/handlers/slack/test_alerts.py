"""Alerts in the alerts channel: an organisation disconnected on Xero's side raises one
message per customer, updated in place as more breaks, resolved once the customer has
reconsented through the link its button sent, and its thread says who fixed it."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot import domain
from bot.domain import Dependencies
from bot.domain.alerts import AlertReport
from handlers.slack import ids
from handlers.slack.notifier import SlackNotifier
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message
from sandbox.xero_emulator import EmulatedOrganisation, XeroEmulator
from tests.conftest import Clock
from tests.domain_helpers import CUSTOMER, consented, option_id, registered, token_of
from tests.handlers.slack.admin_helpers import timed
from tests.slack_fixtures import AGENT, ALERTS, CHANNEL, Slack, consent_through_xero

GONE = "was disconnected on Xero's side: send the customer a new consent link to reconnect."


def shown(message: Message) -> str:
    """The message's text as Slack shows it: sections and context, a line each."""
    lines = []
    for block in message.blocks:
        if block["type"] == "section":
            lines.append(block["text"]["text"])
        if block["type"] == "context":
            lines.extend(element["text"] for element in block["elements"])
    return "\n".join(lines)


def buttons(message: Message) -> list[str]:
    return [
        element["text"]["text"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


async def two_organisations(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> tuple[EmulatedOrganisation, EmulatedOrganisation]:
    """Acme <Bikes>: S001 connected to North <Ltd>, S002 to South Ltd, by one Xero user."""
    customer = await registered(slack.deps, cloudpos, name="Acme <Bikes>", stores=2)
    north = emulator.add_organisation("North <Ltd>")
    south = emulator.add_organisation("South Ltd")
    token, view = await consented(slack.deps, emulator, customer, [north, south])
    choices = {"S001": option_id(view, "North <Ltd>"), "S002": option_id(view, "South Ltd")}
    await domain.choice.confirm(slack.deps, token=token, choices=choices, actor=CUSTOMER)
    return north, south


async def check_and_alert(deps: Dependencies) -> AlertReport:
    await domain.health.check_connections(deps)
    return await domain.alerts.report(deps)


async def test_a_disconnect_at_xero_is_alerted_updated_in_place_and_resolved_by_a_reconsent(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    north, south = await two_organisations(slack, cloudpos, emulator)
    emulator.disconnect_organisation(north.tenant_id)

    assert await check_and_alert(slack.deps) == AlertReport(raised=1)
    [alert] = slack.workspace.messages(ALERTS)
    assert alert.text == "Acme &lt;Bikes&gt;: 1 store needs attention"
    assert "Acme &lt;Bikes&gt;* · 1 store" in shown(alert)
    assert (
        f"`S001` acme &lt;bikes&gt; store 1 · North &lt;Ltd&gt; — North &lt;Ltd&gt; {GONE}"
        in shown(alert)
    )
    assert "<Ltd>" not in shown(alert)
    assert "<Bikes>" not in shown(alert)
    assert "S002" not in shown(alert)
    assert buttons(alert) == ["Send reconnect link", "Summary"]

    clock.advance(hours=1)
    assert await domain.alerts.report(slack.deps) == AlertReport()  # nothing new: no call
    assert len(slack.workspace.calls_to("chat.update")) == 0

    emulator.disconnect_organisation(south.tenant_id)
    assert await check_and_alert(slack.deps) == AlertReport(updated=1)
    [alert] = slack.workspace.messages(ALERTS)
    assert alert.edited
    assert alert.text == "Acme &lt;Bikes&gt;: 2 stores need attention"
    assert "`S001`" in shown(alert)
    assert f"`S002` acme &lt;bikes&gt; store 2 · South Ltd — South Ltd {GONE}" in shown(alert)

    await timed(slack.driver.click(alert, ids.ALERT_RECONNECT, user_id=AGENT))
    await slack.workspace.wait_for("response_url")
    [private] = slack.workspace.ephemeral(ALERTS, AGENT)
    assert "for *Acme &lt;Bikes&gt;* (`S001`, `S002`)" in shown(private)
    [alert_now, record] = slack.workspace.messages(ALERTS)
    assert alert_now.ts == alert.ts
    assert alert_now.text == alert.text
    assert "Consent link #2" in record.text
    assert "waiting for the customer" in shown(record)

    token = token_of(next(word for word in private.text.split() if "/connect/" in word))
    await consent_through_xero(slack.deps, emulator, token, [north.tenant_id, south.tenant_id])
    view = await domain.consent.open(slack.deps, token=token)
    choices = {"S001": option_id(view, "North <Ltd>"), "S002": option_id(view, "South Ltd")}
    await domain.choice.confirm(slack.deps, token=token, choices=choices, actor=CUSTOMER)

    assert await domain.alerts.report(slack.deps) == AlertReport(resolved=1)
    resolved = slack.workspace.message(ALERTS, alert.ts)
    assert resolved is not None
    assert resolved.text == "Resolved: every store of Acme &lt;Bikes&gt; is healthy again"
    assert buttons(resolved) == ["Summary"]
    [fixed] = slack.workspace.replies(ALERTS, alert.ts)
    assert fixed.text.startswith(
        f":white_check_mark: The customer reconnected through link #2, sent by <@{AGENT}>, "
    )
    assert await domain.alerts.report(slack.deps) == AlertReport()

    emulator.disconnect_organisation(south.tenant_id)
    assert await check_and_alert(slack.deps) == AlertReport(raised=1)
    assert next(m.ts for m in slack.workspace.messages(ALERTS)) == alert.ts
    newest = slack.workspace.messages(ALERTS)[-1]
    assert newest.ts != alert.ts
    assert newest.text.endswith("1 store needs attention")
    assert slack.workspace.messages(CHANNEL) == []


async def test_summary_on_an_alert_answers_only_the_clicker_and_leaves_the_alert(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    north, _ = await two_organisations(slack, cloudpos, emulator)
    emulator.disconnect_organisation(north.tenant_id)
    await check_and_alert(slack.deps)
    [alert] = slack.workspace.messages(ALERTS)

    await timed(slack.driver.click(alert, ids.ALERT_SUMMARY, user_id=AGENT))
    await slack.workspace.wait_for("response_url")

    [summary] = slack.workspace.ephemeral(ALERTS, AGENT)
    assert "South Ltd" in shown(summary)
    assert slack.workspace.messages(ALERTS) == [alert]


async def test_the_reconnect_button_after_every_store_recovered_issues_nothing(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    north, _ = await two_organisations(slack, cloudpos, emulator)
    emulator.disconnect_organisation(north.tenant_id)
    await check_and_alert(slack.deps)
    [alert] = slack.workspace.messages(ALERTS)
    emulator.authorise(  # the user connects the app to the organisation again at Xero
        user_id="xero-user-1",
        tenant_ids=[north.tenant_id],
        redirect_uri="https://x.test",
        state="s",
    )
    await domain.health.check_connections(slack.deps)  # Xero lists it again: the store works

    await timed(slack.driver.click(alert, ids.ALERT_RECONNECT, user_id=AGENT))
    await slack.workspace.wait_for("response_url")

    [answer] = slack.workspace.ephemeral(ALERTS, AGENT)
    assert answer.text.startswith(":white_check_mark: No store of this customer needs")
    assert len(slack.workspace.messages(ALERTS)) == 1  # no link record: no link
    assert await domain.alerts.report(slack.deps) == AlertReport(resolved=1)
    [fixed] = slack.workspace.replies(ALERTS, alert.ts)
    assert fixed.text.startswith(":white_check_mark: The organisation was connected again at Xero")


async def test_a_failing_slack_loses_no_alert_it_is_raised_on_the_next_run(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    north, _ = await two_organisations(slack, cloudpos, emulator)
    emulator.disconnect_organisation(north.tenant_id)
    await domain.health.check_connections(slack.deps)
    slack.workspace.channels.pop(ALERTS)  # chat.postMessage: channel_not_found

    assert await domain.alerts.report(slack.deps) == AlertReport(failed=1)
    slack.workspace.add_channel(ALERTS, "xero-alerts")
    assert await domain.alerts.report(slack.deps) == AlertReport(raised=1)
    assert len(slack.workspace.messages(ALERTS)) == 1


async def test_without_an_alerts_channel_alerts_are_logged_once(
    slack: Slack,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = AsyncWebClient(
        token=slack.workspace.bot_token, base_url=f"{slack.workspace.base_url}/api/"
    )
    deps = replace(slack.deps, notifier=SlackNotifier(client))
    north, _ = await two_organisations(slack, cloudpos, emulator)
    emulator.disconnect_organisation(north.tenant_id)
    posted = len(slack.workspace.calls_to("chat.postMessage"))

    with caplog.at_level(logging.WARNING, logger="bot.domain.notify"):
        assert await check_and_alert(deps) == AlertReport(raised=1)
        assert await domain.alerts.report(deps) == AlertReport()
    assert [r.getMessage() for r in caplog.records if r.name == "bot.domain.notify"] == [
        f"customer #1 store S001 needs attention: North <Ltd> {GONE}"
    ]
    assert slack.workspace.messages(ALERTS) == []
    assert len(slack.workspace.calls_to("chat.postMessage")) == posted
    overview = await domain.attention.overview(deps)
    assert overview.stores_total == 1  # /xero attention still shows it
