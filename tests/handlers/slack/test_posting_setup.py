"""Posting set-up in Slack, from signed requests to what the agent sees: the modal opens at
once and fills once Xero answers, searches answer in time, Xero's objections land on their
inputs, another store's set-up can be copied in, and a complete store is marked ready."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from bot.domain.posting_values import PostingChoices
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import ModalView
from sandbox.xero_emulator import XeroEmulator
from storage.engine import transaction
from storage.models import AuditEvent, Store, XeroGrant
from tests.domain.posting_helpers import Connected, complete_choices, connected
from tests.slack_fixtures import AGENT, Slack

ACK_SECONDS = 3.0


def text_of(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


async def opened(slack: Slack, command: str, *, updates: int = 1) -> ModalView:
    started = time.monotonic()
    response = await slack.command(command)
    assert response.status_code == 200
    assert time.monotonic() - started < ACK_SECONDS
    await slack.workspace.wait_for("views.update", count=updates)
    (view,) = slack.workspace.views_of(AGENT)
    return view


def values_for(choices: PostingChoices, view: ModalView) -> dict[str, dict[str, Any]]:
    """What an agent picks in the modal for `choices` (the contact found by searching)."""
    blocks = {ids.setup_field(b["block_id"]): b["block_id"] for b in inputs(view)}
    values: dict[str, dict[str, Any]] = {
        blocks["sales_account"]: {ids.SETUP_SALES: choices.sales_account_id},
        blocks["tax_rate"]: {ids.SETUP_TAX: choices.tax_type},
        blocks["rounding_account"]: {ids.SETUP_ROUNDING: choices.rounding_account_id},
        blocks["invoice_status"]: {ids.SETUP_INVOICE: "DRAFT"},
        blocks["start_date"]: {ids.SETUP_START: choices.start_date.isoformat()},  # type: ignore[union-attr]
    }
    for tender_id, account_id in choices.payments.items():
        values[blocks[f"payment:{tender_id}"]] = {ids.SETUP_PAYMENT: account_id}
    return values


def inputs(view: ModalView) -> list[dict[str, Any]]:
    return [b for b in view.view["blocks"] if b["type"] == "input"]


async def set_up(slack: Slack, emulator: XeroEmulator, store: Connected, code: str) -> ModalView:
    """Open the set-up of `code`, search the contact, pick everything and save."""
    view = await opened(slack, f"setup Acme {code}")
    found = await slack.driver.suggest(view, ids.SETUP_CONTACT, value="cash sa", user_id=AGENT)
    cash_sales = next(o["value"] for o in found if o["text"]["text"] == "Cash Sales")
    choices = complete_choices(slack.deps, emulator, store.organisation.tenant_id)
    values = values_for(choices, view)
    contact_block = next(b["block_id"] for b in inputs(view) if "contact" in b["block_id"])
    values[contact_block] = {ids.SETUP_CONTACT: cash_sales}
    started = time.monotonic()
    response = await slack.driver.submit(view, values, user_id=AGENT)
    assert time.monotonic() - started < ACK_SECONDS
    assert response.json()["response_action"] == "update"
    (saved,) = slack.workspace.views_of(AGENT)
    return saved


async def audited(slack: Slack, action: str) -> list[dict[str, Any]]:
    async with transaction(slack.deps.sessions, read_only=True) as session:
        return list(
            await session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action))
        )


async def test_the_modal_opens_loading_at_once_then_shows_the_form(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(slack.deps, cloudpos, emulator)
    view = await opened(slack, "setup Acme S001")
    (first,) = slack.workspace.calls_to("views.open")
    assert "Reading" in text_of(first.args["view"])
    assert view.callback_id == ids.SETUP_VIEW
    shown = text_of(view.view)
    assert "Acme Ltd" in shown
    for tender in ("Payments: Cash (Cash)", "Payments: Card (EFTPOS) (Card)", "Payments: Voucher"):
        assert tender in shown
    assert "0 of 7 done" in shown
    assert len(view.view["blocks"]) <= 100


async def test_a_complete_set_up_is_saved_then_marked_ready_for_sync(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(slack.deps, cloudpos, emulator)
    saved = await set_up(slack, emulator, store, "S001")
    shown = text_of(saved.view)
    assert "Posting set-up saved" in shown
    assert "posting set-up complete" in shown
    assert len(await audited(slack, "setup.changed")) == 1

    await slack.driver.click(saved, ids.SETUP_READY, user_id=AGENT)
    await slack.workspace.wait_for("views.update", count=2)
    (done,) = slack.workspace.views_of(AGENT)
    assert "is ready for sync" in text_of(done.view)
    assert [e["store"] for e in await audited(slack, "store.ready")] == ["S001"]

    await slack.command("stores Acme")
    card = text_of((await slack.answer()).blocks)
    assert ":large_green_circle: ready for sync" in card


async def test_xeros_objections_are_shown_on_their_inputs_and_nothing_is_saved(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(slack.deps, cloudpos, emulator)
    view = await opened(slack, "setup Acme S001")
    emulator.archive_account(store.organisation.tenant_id, "200")  # after the form was read
    choices = complete_choices(slack.deps, emulator, store.organisation.tenant_id)
    values = values_for(choices, view)
    response = await slack.driver.submit(view, values, user_id=AGENT)
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "200 · Sales is archived in Xero. Choose another." in answer["errors"]["sales_account"]
    assert all(len(error) <= 150 for error in answer["errors"].values())
    assert await audited(slack, "setup.changed") == []


async def test_a_value_the_bot_never_offered_is_refused_on_its_input(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(slack.deps, cloudpos, emulator)
    view = await opened(slack, "setup Acme S001")
    forged = {
        "sales_account": {
            ids.SETUP_SALES: {
                "type": "static_select",
                "selected_option": {"value": ids.NOTHING_FITS, "text": {"text": "x"}},
            }
        },
        "invoice_status": {
            ids.SETUP_INVOICE: {
                "type": "radio_buttons",
                "selected_option": {"value": "PAID", "text": {"text": "x"}},
            }
        },
    }
    response = await slack.driver.submit(view, forged, user_id=AGENT)
    errors = response.json()["errors"]
    assert "Nothing in Xero fits here" in errors["sales_account"]
    assert errors["invoice_status"] == "Choose Draft or Authorised."


async def test_copy_from_another_store_fills_the_form_and_saves_as_is(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(slack.deps, cloudpos, emulator)
    await set_up(slack, emulator, store, "S001")
    await slack.driver.close(slack.workspace.views_of(AGENT)[0], user_id=AGENT)
    view = await opened(slack, "setup Acme S002", updates=2)
    await slack.driver.click(view, ids.SETUP_COPY, selected="S001", user_id=AGENT)
    await slack.workspace.wait_for("views.update", count=3)
    (copied,) = slack.workspace.views_of(AGENT)
    assert "Filled from S001" in text_of(copied.view)
    sales = next(b for b in inputs(copied) if ids.setup_field(b["block_id"]) == "sales_account")
    assert sales["block_id"] == "1/sales_account"  # new ids: Slack shows the copied choices
    choices = complete_choices(slack.deps, emulator, store.organisation.tenant_id)
    assert sales["element"]["initial_option"]["value"] == choices.sales_account_id
    response = await slack.driver.submit(copied, {}, user_id=AGENT)
    assert response.json()["response_action"] == "update"
    assert "posting set-up complete" in text_of(slack.workspace.views_of(AGENT)[0].view)


async def test_contacts_are_searched_as_the_agent_types_and_answered_in_time(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(slack.deps, cloudpos, emulator)
    view = await opened(slack, "setup Acme S001")
    started = time.monotonic()
    found = await slack.driver.suggest(view, ids.SETUP_CONTACT, value="a", user_id=AGENT)
    assert time.monotonic() - started < ACK_SECONDS
    assert 0 < len(found) <= 100
    assert all(len(o["text"]["text"]) <= 75 for o in found)
    nothing = await slack.driver.suggest(view, ids.SETUP_CONTACT, value="zzzq", user_id=AGENT)
    assert [o["value"] for o in nothing] == [ids.NOTHING_FITS]


async def test_a_consent_without_the_contacts_scope_says_how_to_renew_it(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(slack.deps, cloudpos, emulator)
    async with transaction(slack.deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
        assert grant is not None
        grant.scopes = "offline_access accounting.settings.read"
    view = await opened(slack, "setup Acme S001")
    shown = text_of(view.view)
    assert "does not allow reading accounting.contacts.read" in shown
    assert "Send consent link" in shown


async def test_an_unknown_store_is_said_in_the_modal(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(slack.deps, cloudpos, emulator)
    view = await opened(slack, "setup Acme S404")
    assert "has no store 'S404'" in text_of(view.view)


async def test_without_a_code_the_card_asks_which_store(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    await connected(slack.deps, cloudpos, emulator)
    response = await slack.command("setup Acme")
    assert response.status_code == 200
    answer = await slack.answer()
    shown = text_of(answer.blocks)
    assert "Which store?" in shown
    assert shown.count(ids.SETUP_OPEN) == 2
    assert slack.workspace.calls_to("views.open") == []


async def test_the_cards_button_opens_the_set_up_and_mark_ready_updates_the_card(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(slack.deps, cloudpos, emulator)
    await set_up(slack, emulator, store, "S001")
    await slack.command("stores Acme")
    card = await slack.answer()
    await slack.driver.click(
        card, ids.SETUP_READY, value=ids.encode(c=store.customer_id, s="S001"), user_id=AGENT
    )
    updated = await slack.answer(count=2)
    assert ":large_green_circle: ready for sync" in text_of(updated.blocks)
    async with transaction(slack.deps.sessions, read_only=True) as session:
        ready = await session.scalar(select(Store.ready_by).where(Store.code == "S001"))
    assert ready == f"slack:{AGENT}"
    await slack.driver.click(
        updated, ids.SETUP_OPEN, value=ids.encode(c=store.customer_id, s="S002"), user_id=AGENT
    )
    await slack.workspace.wait_for("views.open", count=2)


async def test_the_summary_counts_ready_stores_per_organisation(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(slack.deps, cloudpos, emulator)
    saved = await set_up(slack, emulator, store, "S001")
    await slack.driver.click(saved, ids.SETUP_READY, user_id=AGENT)
    await slack.workspace.wait_for("views.update", count=2)
    await slack.command("summary Acme")
    summary = text_of((await slack.answer()).blocks)
    assert "1 of 2 ready for sync" in summary


async def test_a_slow_check_answers_in_time_and_shows_the_outcome_in_the_modal(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    store = await connected(slack.deps, cloudpos, emulator)
    view = await opened(slack, "setup Acme S001")
    found = await slack.driver.suggest(view, ids.SETUP_CONTACT, value="Cash Sales", user_id=AGENT)
    values = values_for(complete_choices(slack.deps, emulator, store.organisation.tenant_id), view)
    values["contact"] = {ids.SETUP_CONTACT: found[0]["value"]}
    emulator.archive_account(store.organisation.tenant_id, "200")
    hold = emulator.hold("contact")
    started = time.monotonic()
    response = await slack.driver.submit(view, values, user_id=AGENT)
    assert time.monotonic() - started < ACK_SECONDS
    assert response.json()["response_action"] == "update"
    assert "Checking the choices" in text_of(response.json()["view"])
    hold.release()
    await slack.workspace.wait_for("views.update", count=2)
    (again,) = slack.workspace.views_of(AGENT)
    shown = text_of(again.view)
    assert "These choices do not hold in Xero: Sales account: 200 · Sales is archived" in shown
    assert again.view["callback_id"] == ids.SETUP_VIEW
    payment = next(b for b in inputs(again) if ids.setup_field(b["block_id"]) == "payment:T1")
    assert payment["block_id"] == "1/payment:T1"
    assert payment["element"]["initial_option"]["value"] == values["payment:T1"][ids.SETUP_PAYMENT]
    assert await audited(slack, "setup.changed") == []
