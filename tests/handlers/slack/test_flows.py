"""Longer Slack flows: the customer modal, slow backends, consent progress, disconnecting."""

from __future__ import annotations

import copy
import json
import time

import pytest

from bot import domain
from bot.domain.errors import ExternalServiceError
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator, CloudPosStore
from sandbox.fake_slack import Message
from sandbox.xero_emulator import XeroEmulator
from storage.models import StoreStatus
from tests.domain_helpers import find_customer, registered
from tests.slack_fixtures import (
    ADMIN,
    AGENT,
    CHANNEL,
    Slack,
    connected_through_xero,
    consent_through_xero,
    issued_link,
    with_revoke_button,
)
from tests.web_fixtures import Organisations


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def text_of(message: Message) -> str:
    return message.text + dumps(message.blocks)


async def open_register_modal(slack: Slack) -> object:
    await slack.command("customer add")
    await slack.workspace.wait_for("views.open")
    (view,) = slack.workspace.views_of(AGENT)
    assert view.callback_id == ids.REGISTER_CUSTOMER_VIEW
    return view


def modal_values(name: str, key: str) -> dict[str, dict[str, str]]:
    return {ids.NAME_BLOCK: {ids.NAME_INPUT: name}, ids.KEY_BLOCK: {ids.KEY_INPUT: key}}


async def test_customer_add_registers_from_the_modal(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key-acme", group="acme", stores=2)
    view = await open_register_modal(slack)

    response = await slack.driver.submit(
        view, modal_values("Acme 🚲 Bikes", "key-acme"), user_id=AGENT
    )

    assert response.status_code == 200
    assert response.json()["response_action"] == "update"
    (shown,) = slack.workspace.views_of(AGENT)
    assert "Acme 🚲 Bikes" in dumps(shown.view)
    assert "is registered" in dumps(shown.view)
    assert (await find_customer(slack.deps, query="acme 🚲 bikes")).licence == "ProPlus"


@pytest.mark.parametrize(
    ("name", "key", "block", "message"),
    [
        ("", "key-acme", ids.NAME_BLOCK, "Give the customer a name"),
        ("x" * 3000, "key-acme", ids.NAME_BLOCK, "under 200 characters"),
        ("Small Shop", "key-pro", ids.KEY_BLOCK, "Xero needs Pro Plus"),
        ("Nobody", "wrong-key", ids.KEY_BLOCK, "not valid or not active"),
    ],
)
async def test_customer_add_shows_errors_on_the_field(
    slack: Slack, cloudpos: CloudPosEmulator, name: str, key: str, block: str, message: str
) -> None:
    cloudpos.add_account("key-acme", group="acme")
    cloudpos.add_account("key-pro", group="small", licence="Pro")
    view = await open_register_modal(slack)

    response = await slack.driver.submit(view, modal_values(name, key), user_id=AGENT)

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert message in answer["errors"][block]
    assert key not in dumps(answer)


@pytest.mark.parametrize(
    ("registered_as", "name", "key", "block", "advice"),
    [
        (None, "Nobody", "wrong-key", ids.KEY_BLOCK, "(ticked Active)."),
        (None, "Small Shop", "key-pro", ids.KEY_BLOCK, "contact can upgrade it."),
        ("A" * 200, "A" * 200, "key-other", ids.NAME_BLOCK, "already exists."),
        ("Acme", "B" * 200, "key-acme", ids.KEY_BLOCK, "is already registered as Acme (#1)."),
    ],
)
async def test_field_errors_fit_slacks_150_characters_with_their_advice(
    slack: Slack,
    cloudpos: CloudPosEmulator,
    registered_as: str | None,
    name: str,
    key: str,
    block: str,
    advice: str,
) -> None:
    group = "g" * 120
    cloudpos.add_account("key-acme", group=group)
    cloudpos.add_account("key-other", group="other")
    cloudpos.add_account("key-pro", group=group, licence="Pro")
    if registered_as:
        await domain.customers.register(
            slack.deps, name=registered_as, api_key="key-acme", actor="t"
        )
    view = await open_register_modal(slack)

    response = await slack.driver.submit(view, modal_values(name, key), user_id=AGENT)

    error = response.json()["errors"][block]
    assert len(error) <= 150
    assert error.endswith(advice)


async def test_a_longer_error_replaces_the_modal_whole(
    slack: Slack, cloudpos: CloudPosEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    advice = "try again in a few minutes."
    long = "Cloud POS is not answering right now " + "(" + "x" * 150 + "); " + advice

    async def unavailable(*_args: object, **_kwargs: object) -> None:
        raise ExternalServiceError(long, retryable=True)

    monkeypatch.setattr(domain.customers, "register", unavailable)
    view = await open_register_modal(slack)

    response = await slack.driver.submit(view, modal_values("Acme", "k"), user_id=AGENT)

    assert response.json()["response_action"] == "update"
    (shown,) = slack.workspace.views_of(AGENT)
    assert advice in dumps(shown.view)


async def test_a_slow_cloud_pos_still_gets_its_ack_in_time(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key-slow", group="slow", stores=1)
    cloudpos.delay = 5
    view = await open_register_modal(slack)

    started = time.monotonic()
    response = await slack.driver.submit(view, modal_values("Slow Co", "key-slow"), user_id=AGENT)
    acked_after = time.monotonic() - started

    assert acked_after < 3
    assert "Checking the API key" in dumps(response.json()["view"])
    await slack.workspace.wait_for("views.update", timeout=15)
    (shown,) = slack.workspace.views_of(AGENT)
    assert "Slow Co" in dumps(shown.view)


async def test_refresh_stores_answers_first_and_updates_the_card(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    cloudpos.accounts["key-Acme"].stores.append(CloudPosStore("S777", "New shop"))
    await slack.command("stores Acme")
    card = await slack.answer()
    cloudpos.delay = 5

    started = time.monotonic()
    await slack.driver.click(card, ids.REFRESH_STORES, user_id=AGENT)
    assert time.monotonic() - started < 3

    calls = await slack.workspace.wait_for("response_url", count=3, timeout=15)
    assert "Reading the stores" in dumps(calls[1].args)
    assert "S777" in dumps(calls[2].args)


async def test_150_stores_page_with_next(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Big", stores=150)
    await slack.command("stores Big")
    first = await slack.answer()
    assert len(first.blocks) <= 50

    await slack.driver.click(first, ids.STORES_PAGE, user_id=AGENT, value=ids.encode(c=1, p=1))

    second = await slack.answer(count=2)
    assert "S021" in text_of(second)
    assert "Page 2 of 8" in text_of(second)


async def test_consent_progress_is_reported_in_the_links_thread_and_confirmed_from_slack(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, organisations: Organisations
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=2)
    token = await issued_link(slack, "link Acme S001 S002")
    (record,) = slack.channel()

    await consent_through_xero(
        slack.deps,
        emulator,
        token,
        [organisations.standard.tenant_id, organisations.starter.tenant_id],
    )

    (choice,) = slack.workspace.replies(CHANNEL, record.ts)
    assert "allowed: Acme Ltd (Standard), Acme Starter (Starter — Starter plan" in text_of(choice)
    assert "waiting for the organisation choice" in text_of(
        slack.workspace.message(CHANNEL, record.ts)
    )
    standard = next(
        o["value"]
        for b in choice.blocks
        if b.get("block_id", "").startswith("store:")
        for o in b["accessory"]["options"]
    )
    for code in ("S001", "S002"):
        block = f"{ids.STORE_CHOICE_BLOCK_PREFIX}{code}"
        slack.driver.state_of(choice)[block] = {
            ids.ORGANISATION_CHOICE: {
                "type": "static_select",
                "selected_option": {"value": standard},
            }
        }

    await slack.driver.click(choice, ids.CONFIRM_ORGANISATIONS, user_id=AGENT)

    await slack.workspace.wait_for("chat.update", count=2)
    replies = slack.workspace.replies(CHANNEL, record.ts)
    assert "Consent completed" in text_of(replies[-1])
    assert "completed" in text_of(slack.workspace.message(CHANNEL, record.ts))
    stores = (await domain.customers.get(slack.deps, customer_id=1)).stores
    assert {s.status for s in stores} == {StoreStatus.CONNECTED}


async def test_summary_and_disconnect_by_an_admin(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, organisations: Organisations
) -> None:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=2)
    token = await issued_link(slack, "link Acme all")
    await connected_through_xero(slack.deps, emulator, token, organisations.standard.tenant_id)

    await slack.command('disconnect Acme "acme ltd"', user=ADMIN)
    ephemeral = slack.workspace.ephemeral
    await slack.workspace.wait_for("response_url", count=2)
    confirmation = ephemeral(CHANNEL, ADMIN)[-1]
    assert "*Acme Ltd* has 2 of Acme Bikes' stores" in text_of(confirmation)

    await slack.driver.click(confirmation, ids.DISCONNECT, user_id=ADMIN)

    await slack.workspace.wait_for("response_url", count=4)
    assert "Disconnected *Acme Ltd* from Acme" in text_of(ephemeral(CHANNEL, ADMIN)[-1])
    assert emulator.connections_of("xero-user-1") == []
    await slack.command("summary Acme", user=ADMIN)
    await slack.workspace.wait_for("response_url", count=5)
    assert "0 organisations" in text_of(ephemeral(CHANNEL, ADMIN)[-1])


async def test_posting_and_revoking_a_link(slack: Slack, cloudpos: CloudPosEmulator) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    await slack.command("link Acme all")
    private = await slack.answer()

    await slack.driver.click(private, ids.POST_LINK, user_id=AGENT)
    await slack.workspace.wait_for("chat.postMessage", count=2)
    posted = slack.channel()[-1]
    assert "/connect/" in text_of(posted)
    assert posted.unfurl_links is False

    assert ids.REVOKE_LINK not in text_of(private)
    forged = with_revoke_button(private, consent_request_id=1)
    await slack.driver.click(forged, ids.REVOKE_LINK, user_id=AGENT)
    await slack.workspace.wait_for("response_url", count=3)
    assert "Only helpdesk admins can revoke" in slack.workspace.ephemeral(CHANNEL, AGENT)[-1].text
    admin_view = Message(**{**forged.__dict__, "ephemeral_to": ADMIN})
    await slack.driver.click(admin_view, ids.REVOKE_LINK, user_id=ADMIN)
    await slack.workspace.wait_for("chat.update")
    assert "revoked by <@U0ADMIN>" in text_of(slack.channel()[0])


async def test_a_slow_cloud_pos_does_not_hold_up_an_agent_who_only_reads(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    await slack.command("stores Acme")
    card = await slack.answer()
    cloudpos.delay = 6
    original = copy.deepcopy(card)  # each click replaces the card: click copies of it
    for _ in range(5):  # more refreshes than there are slots for work that calls out
        await slack.driver.click(copy.deepcopy(original), ids.REFRESH_STORES, user_id=AGENT)
    await slack.workspace.wait_for("response_url", count=5)

    started = time.monotonic()
    await slack.command("summary Acme")
    summary = await slack.workspace.wait_for("response_url", count=6)
    waited = time.monotonic() - started

    assert "Xero summary: Acme" in dumps(summary[-1].args)
    assert waited < 2, f"the summary waited {waited:.1f}s behind Cloud POS"


async def test_work_that_calls_out_is_time_boxed(
    slack: Slack, cloudpos: CloudPosEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handlers.slack.runtime.CALL_SECONDS", 0.5)
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    await slack.command("stores Acme")
    card = await slack.answer()
    cloudpos.delay = 5

    await slack.driver.click(card, ids.REFRESH_STORES, user_id=AGENT)

    calls = await slack.workspace.wait_for("response_url", count=3, timeout=4)
    assert "Xero or Cloud POS took more than 0.5 seconds" in dumps(calls[-1].args)
    assert "try again in a few minutes" in dumps(calls[-1].args)
