"""Every mistake and refusal is answered at once with HTTP 200, and the agent is told why.

Bolt's asyncio runner answers 404 after 3 s when a listener raises after acknowledging;
these tests send each failing request over signed HTTP, time the answer to Slack and read
the warning the agent received.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from bot import domain
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message
from sandbox.xero_emulator import XeroEmulator
from storage.models import AuditEvent
from tests.conftest import Clock
from tests.domain_helpers import registered
from tests.handlers.slack.admin_helpers import timed
from tests.slack_fixtures import (
    ADMIN,
    AGENT,
    CHANNEL,
    OUTSIDER,
    Slack,
    connected_through_xero,
    consent_through_xero,
    issued_link,
    with_revoke_button,
)
from tests.web_fixtures import Organisations


def text_of(message: Message) -> str:
    return message.text + json.dumps(message.blocks)


@pytest.fixture
async def acme(slack: Slack, cloudpos: CloudPosEmulator) -> Slack:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=2)
    return slack


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("summary", "Say which customer: `/xero summary"),
        ("summary Nobody", "No customer"),
        ("stores", "Say which customer: `/xero stores"),
        ("stores Nobody", "No customer"),
        ("audit", "Say which customer: `/xero audit"),
        ("audit Nobody", "No customer"),
        ("link", "Say which customer: `/xero link"),
        ("link Nobody S001", "No customer"),
        ('link "Acme Bikes" S999', "S999"),
        ("disconnect", "Say which customer: `/xero disconnect"),
        ('disconnect "Acme Bikes"', "Say which organisation"),
        ('disconnect "Acme Bikes" "Nope Ltd"', "Nope Ltd"),
        ("disconnect Nobody Ltd", "No customer"),
    ],
)
async def test_a_command_that_cannot_be_done_is_answered_at_once(
    acme: Slack, text: str, warning: str
) -> None:
    await timed(acme.command(text, user=ADMIN))

    answer = await acme.answer(user=ADMIN)
    assert answer.text.startswith(":warning:")
    assert warning in answer.text
    assert acme.channel() == []


async def test_a_non_admin_typing_disconnect_is_refused_at_once_and_audited(acme: Slack) -> None:
    await timed(acme.command('disconnect "Acme Bikes" "Acme Ltd"'))
    assert "Only helpdesk admins can disconnect" in (await acme.answer()).text
    async with acme.deps.sessions() as session:
        refused = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused"))
        ).all()
    assert [(e.actor, e.detail["attempted"]) for e in refused] == [
        (f"slack:{AGENT}", "/xero disconnect Acme Bikes Acme Ltd")
    ]


@pytest.mark.parametrize("text", ["stores Acme Bikes", "customer", "frobnicate"])
async def test_an_outsider_is_refused_at_once(acme: Slack, text: str) -> None:
    response = await timed(acme.command(text, user=OUTSIDER))
    assert "for the helpdesk team" in response.text


async def test_send_link_for_selected_with_nothing_chosen(acme: Slack) -> None:
    await acme.command("stores Acme Bikes")
    card = await acme.answer()

    await timed(acme.driver.click(card, ids.SEND_LINK_FOR_SELECTED, user_id=AGENT))

    warning = await acme.answer(count=2)
    assert "Choose one or more stores in the list first" in warning.text
    assert acme.channel() == []


async def test_a_forged_revoke_click_by_a_non_admin(acme: Slack) -> None:
    await acme.command('link "Acme Bikes" all')
    private = await acme.answer()

    assert ids.REVOKE_LINK not in text_of(private)
    forged = with_revoke_button(private, consent_request_id=1)

    await timed(acme.driver.click(forged, ids.REVOKE_LINK, user_id=AGENT))

    warning = await acme.answer(count=2)
    assert "Only helpdesk admins can revoke" in warning.text
    consent = await domain.links.get(acme.deps, consent_request_id=1)
    assert consent.status == "issued"


async def test_a_forged_disconnect_click_by_a_non_admin(
    acme: Slack, emulator: XeroEmulator, organisations: Organisations
) -> None:
    token = await issued_link(acme, 'link "Acme Bikes" all')
    await connected_through_xero(acme.deps, emulator, token, organisations.standard.tenant_id)
    await acme.command('disconnect "Acme Bikes" "Acme Ltd"', user=ADMIN)
    await acme.workspace.wait_for("response_url", count=2)
    confirmation = acme.workspace.ephemeral(CHANNEL, ADMIN)[-1]
    forged = Message(**{**confirmation.__dict__, "ephemeral_to": AGENT})

    await timed(acme.driver.click(forged, ids.DISCONNECT, user_id=AGENT))

    await acme.workspace.wait_for("response_url", count=3)
    assert (
        "Only helpdesk admins can disconnect" in acme.workspace.ephemeral(CHANNEL, AGENT)[-1].text
    )
    assert len(emulator.connections_of("xero-user-1")) == 1


async def test_a_confirm_with_nothing_chosen_is_answered_in_the_thread(
    acme: Slack, emulator: XeroEmulator, organisations: Organisations
) -> None:
    token = await issued_link(acme, 'link "Acme Bikes" all')
    (record,) = acme.channel()
    tenants = [organisations.standard.tenant_id, organisations.premium.tenant_id]
    await consent_through_xero(acme.deps, emulator, token, tenants)
    (choice,) = acme.workspace.replies(CHANNEL, record.ts)

    await timed(acme.driver.click(choice, ids.CONFIRM_ORGANISATIONS, user_id=AGENT))

    (call,) = await acme.workspace.wait_for("chat.postEphemeral")
    assert call.args["thread_ts"] == record.ts
    (warning,) = acme.workspace.ephemeral(CHANNEL, AGENT)[-1:]
    assert warning.thread_ts == record.ts
    assert warning.text == ":warning: Choose an organisation for at least one store first."


async def test_a_stale_confirm_shows_where_the_link_went(
    acme: Slack, emulator: XeroEmulator, organisations: Organisations
) -> None:
    token = await issued_link(acme, 'link "Acme Bikes" all')
    (record,) = acme.channel()
    await consent_through_xero(acme.deps, emulator, token, [organisations.standard.tenant_id])
    (choice,) = acme.workspace.replies(CHANNEL, record.ts)
    await domain.links.revoke(acme.deps, consent_request_id=1, actor="slack:U0ADMIN")

    await timed(acme.driver.click(choice, ids.CONFIRM_ORGANISATIONS, user_id=AGENT))

    await acme.workspace.wait_for("response_url", count=2)
    (now,) = acme.workspace.replies(CHANNEL, record.ts)
    assert now.ts == choice.ts
    assert "Link #1 was withdrawn by <@U0ADMIN>" in text_of(now)
    assert ids.CONFIRM_ORGANISATIONS not in text_of(now)
    stores = (await domain.customers.get(acme.deps, customer_id=1)).stores
    assert all(store.organisation_name is None for store in stores)


async def test_an_unexpected_error_after_checking_reaches_the_modal(
    slack: Slack, cloudpos: CloudPosEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow_then_broken(*_args: object, **_kwargs: object) -> None:
        await asyncio.sleep(2.5)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(domain.customers, "register", slow_then_broken)
    await slack.command("customer add")
    await slack.workspace.wait_for("views.open")
    (view,) = slack.workspace.views_of(AGENT)
    values = {ids.NAME_BLOCK: {ids.NAME_INPUT: "Acme"}, ids.KEY_BLOCK: {ids.KEY_INPUT: "k"}}

    response = await slack.driver.submit(view, values, user_id=AGENT)

    assert response.json()["response_action"] == "update"
    await slack.workspace.wait_for("views.update")
    (shown,) = slack.workspace.views_of(AGENT)
    assert "Something went wrong on our side (reference `" in json.dumps(shown.view)
    assert "database went away" not in json.dumps(shown.view)


async def test_a_confirm_after_the_link_expired_says_so_by_the_domains_clock(
    acme: Slack, emulator: XeroEmulator, organisations: Organisations, clock: Clock
) -> None:
    token = await issued_link(acme, 'link "Acme Bikes" all')
    (record,) = acme.channel()
    await consent_through_xero(acme.deps, emulator, token, [organisations.standard.tenant_id])
    (choice,) = acme.workspace.replies(CHANNEL, record.ts)
    clock.advance(days=4)  # links live 72 hours

    await timed(acme.driver.click(choice, ids.CONFIRM_ORGANISATIONS, user_id=AGENT))

    await acme.workspace.wait_for("response_url", count=2)
    (now,) = acme.workspace.replies(CHANNEL, record.ts)
    assert "Link #1 expired" in text_of(now)
    assert ids.CONFIRM_ORGANISATIONS not in text_of(now)
