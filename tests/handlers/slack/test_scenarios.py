"""Scenario tests: signed requests through the ASGI app, asserting what Slack was sent."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx
import pytest
from sqlalchemy import select

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import NotFound
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message, SignedRequest, slash_command
from storage.models import AuditEvent
from tests.domain_helpers import registered
from tests.slack_fixtures import AGENT, CHANNEL, OUTSIDER, Slack


def text_of(message: Message) -> str:
    return message.text + json.dumps(message.blocks)


async def test_help_lists_every_subcommand(slack: Slack) -> None:
    response = await slack.command("help")
    assert response.status_code == 200
    answer = await slack.answer()
    for subcommand in ("customer add", "stores", "link", "summary", "disconnect", "audit"):
        assert f"/xero {subcommand}" in text_of(answer)


async def test_an_unknown_subcommand_shows_help(slack: Slack) -> None:
    await slack.command("frobnicate acme")
    answer = text_of(await slack.answer())
    assert "There is no `/xero frobnicate`." in answer
    assert "Did you mean" not in answer
    assert "/xero customer add" in answer


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("customer", "customer add"), ("sumary Acme", "summary"), ("store Acme", "stores")],
)
async def test_a_mistyped_subcommand_suggests_the_closest(
    slack: Slack, typed: str, meant: str
) -> None:
    await slack.command(typed)
    assert f"Did you mean `/xero {meant}`?" in text_of(await slack.answer())


async def test_counts_and_possessives_read_as_english(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=1)
    await slack.command("stores Acme Bikes")
    card = await slack.answer()
    assert card.text == "Acme Bikes: 1 store"
    assert "1 stores" not in text_of(card)
    await slack.command("summary Acme Bikes")
    summary = json.dumps((await slack.answer(count=2)).blocks, ensure_ascii=False)
    assert "0 organisations · 0 stores connected · 1 not connected" in summary


async def test_stores_shows_the_customer_card(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=3)
    await slack.command("stores acme bikes")
    card = await slack.answer()
    assert "Acme Bikes" in text_of(card)
    assert text_of(card).count(ids.SEND_LINK_FOR_STORE) == 3


async def test_a_store_button_issues_a_link_recorded_in_the_channel(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=3)
    await slack.command("stores Acme Bikes")
    card = await slack.answer()

    await slack.driver.click(
        card, ids.SEND_LINK_FOR_STORE, user_id=AGENT, value=ids.encode(c=1, s="S002")
    )

    private = await slack.answer(count=2)
    assert "http://bot.test/connect/" in private.text
    (record,) = slack.channel()
    assert "Consent link #1 for *Acme Bikes*" in text_of(record)
    assert "http://bot.test/connect/" not in text_of(record)
    consent = await domain.links.get(slack.deps, consent_request_id=1)
    assert consent.report_to == f"{CHANNEL}/{record.ts}"
    assert [s.code for s in consent.stores] == ["S002"]


async def test_send_link_for_selected_stores(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=4)
    await slack.command("stores Acme")
    card = await slack.answer()
    await slack.driver.select(card, ids.STORE_PICKER, values=["S001", "S003"], user_id=AGENT)

    await slack.driver.click(card, ids.SEND_LINK_FOR_SELECTED, user_id=AGENT)

    await slack.answer(count=2)
    consent = await domain.links.get(slack.deps, consent_request_id=1)
    assert [s.code for s in consent.stores] == ["S001", "S003"]


async def test_a_tampered_store_value_is_refused_by_the_domain(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=2)
    await registered(slack.deps, cloudpos, name="Other", stores=5)
    await slack.command("stores Acme")
    card = await slack.answer()
    button = next(
        b for b in card.blocks if b.get("accessory", {}).get("action_id") == ids.SEND_LINK_FOR_STORE
    )["accessory"]
    button["value"] = ids.encode(c=1, s="S005")  # a store of the other customer

    await slack.driver.click(card, ids.SEND_LINK_FOR_STORE, user_id=AGENT, value=button["value"])

    refusal = await slack.answer(count=2)
    assert "S005 is not among the stores of Acme" in refusal.text
    assert slack.channel() == []


async def test_link_subcommand_with_store_codes(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=3)
    await slack.command('link "Acme Bikes" S001 S003')
    private = await slack.answer()
    assert "usable until" in text_of(private)
    consent = await domain.links.get(slack.deps, consent_request_id=1)
    assert [s.code for s in consent.stores] == ["S001", "S003"]


async def test_a_slack_retry_never_issues_a_second_link(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    deliver = slack.driver.send

    async def deliver_as_retry(request: SignedRequest) -> httpx.Response:
        retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
        return await deliver(dataclasses.replace(request, headers=request.headers | retry))

    await slack.command("link Acme all")
    await slack.answer()
    slack.driver.send = deliver_as_retry
    response = await slack.command("link Acme all")

    assert response.status_code == 200
    assert len(slack.channel()) == 1
    with pytest.raises(NotFound, match="no consent link #2"):
        await domain.links.get(slack.deps, consent_request_id=2)


async def test_an_ambiguous_name_offers_a_choice(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Acme North", stores=1)
    await registered(slack.deps, cloudpos, name="Acme South", stores=2)
    await slack.command("stores acme")
    choice = await slack.answer()
    assert "2 customers match *acme*" in text_of(choice)

    await slack.driver.click(
        choice, ids.CHOOSE_CUSTOMER, user_id=AGENT, selected=ids.encode(c=2, then="stores")
    )

    card = await slack.answer(count=2)
    assert "Acme South" in text_of(card)


async def test_an_unknown_customer_names_the_closest(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Zephyr Cycles", stores=1)
    await slack.command("summary Zephir Cycle")
    assert "Did you mean Zephyr Cycles?" in (await slack.answer()).text


async def test_people_outside_the_helpdesk_are_refused_and_audited(slack: Slack) -> None:
    response = await slack.command("stores anything", user=OUTSIDER)
    assert response.status_code == 200
    assert "for the helpdesk team" in response.text
    async with slack.deps.sessions() as session:
        events = (await session.scalars(select(AuditEvent))).all()
    assert [(e.actor, e.action) for e in events] == [(f"slack:{OUTSIDER}", "access.refused")]


@pytest.mark.parametrize("problem", ["signature", "timestamp"])
async def test_unsigned_or_stale_requests_are_401(slack: Slack, problem: str) -> None:
    request = slash_command(
        signing_secret="wrong-secret" if problem == "signature" else "slack-signing-secret",
        text="help",
        user_id=AGENT,
        response_url="http://x/response/1",
        trigger_id="1.2",
        timestamp=None if problem == "signature" else 1_000_000_000,
    )
    response = await slack.http.post("/slack/events", content=request.body, headers=request.headers)
    assert response.status_code == 401


async def test_audit_lists_the_latest_events(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    await slack.command("audit Acme")
    assert "registered the customer: Cloud POS group `acme`" in text_of(await slack.answer())


async def test_disconnect_needs_the_admin_role(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    await slack.command('disconnect Acme "Acme Ltd"')
    assert "Only helpdesk admins can disconnect" in (await slack.answer()).text


async def test_the_card_and_summary_buttons_lead_to_each_other(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=2)
    await slack.command("stores Acme")
    card = await slack.answer()
    picked = await slack.driver.select(card, ids.STORE_PICKER, values=["S001"], user_id=AGENT)
    assert picked is not None
    assert picked.status_code == 200

    await slack.driver.click(card, ids.SHOW_SUMMARY, user_id=AGENT)
    summary = await slack.answer(count=2)
    assert "Xero summary: Acme" in text_of(summary)

    await slack.driver.click(summary, ids.SHOW_STORES, user_id=AGENT)
    assert ids.SEND_LINK_FOR_STORE in text_of(await slack.answer(count=3))


async def test_an_unexpected_error_gives_a_reference_that_is_in_the_log(
    slack: Slack,
    cloudpos: CloudPosEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database password is hunter2")

    monkeypatch.setattr(domain.organisations, "summary", broken)
    await slack.command("summary Acme")

    answer = (await slack.answer()).text
    reference = answer.split("reference `")[1].split("`")[0]
    assert len(reference) == 8
    assert "hunter2" not in answer
    assert "Traceback" not in answer
    assert f"reference {reference}" in caplog.text


async def test_a_burst_of_commands_is_worked_through_four_at_a_time(
    slack: Slack, cloudpos: CloudPosEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    real_summary = domain.organisations.summary
    running, most = 0, 0

    async def slow_summary(deps: Dependencies, **kwargs: int) -> object:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        return await real_summary(deps, **kwargs)

    monkeypatch.setattr(domain.organisations, "summary", slow_summary)

    acks = await asyncio.gather(*(slack.command("summary Acme") for _ in range(10)))

    assert {ack.status_code for ack in acks} == {200}
    await slack.workspace.wait_for("response_url", count=10)
    assert most == 4
