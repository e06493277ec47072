"""`ViewState`: typed reads of `state.values`, and the answers when Slack's state is off."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import domain
from bot.domain.errors import InvalidRequest, NotFound
from handlers.slack import ids
from handlers.slack.views.state import ViewState
from sandbox.cloudpos_emulator import CloudPosEmulator
from tests.domain_helpers import find_customer
from tests.slack_fixtures import AGENT, Slack

STALE = "the form or message is out of date. Run the command again."


def state(**blocks: dict[str, Any]) -> ViewState:
    return ViewState.of({"state": {"values": blocks}})


def text_input(value: object) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def option(value: object) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": str(value)}, "value": value}


# --- plain text inputs ------------------------------------------------------------------


def test_a_text_input_reads_its_value_up_to_the_bound() -> None:
    values = state(b={"a": text_input("x" * 5)}, e={"a": text_input(None)})
    assert values.text("b", "a", max_length=5) == "xxxxx"
    assert values.text("e", "a", max_length=5) == ""  # left empty


def test_a_text_over_the_bound_is_refused_on_its_block() -> None:
    with pytest.raises(InvalidRequest) as refused:
        state(b={"a": text_input("x" * 6)}).text("b", "a", max_length=5, label="the name")
    assert refused.value.message == "Keep the name under 5 characters."
    assert refused.value.field == "b"


@pytest.mark.parametrize(
    "values",
    [
        {},  # no such block
        {"b": {}},  # no such input
        {"b": {"a": None}},
        {"b": "text"},
        {"b": {"a": {"type": "static_select", "selected_option": None}}},  # another element
        {"b": {"a": {"value": "typed"}}},  # no type
        {"b": {"a": text_input(42)}},
        {"b": {"a": text_input(["x"])}},
    ],
)
def test_a_text_input_missing_or_malformed_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as refused:
        state(**values).text("b", "a", max_length=5, label="the name")
    assert refused.value.message.startswith("I could not read the name in what Slack sent")
    assert refused.value.message.endswith(STALE)
    assert refused.value.field is None  # not the agent's to fix on the field


# --- selects ----------------------------------------------------------------------------


def test_a_select_reads_the_chosen_value_or_none() -> None:
    values = state(
        b={"a": {"type": "static_select", "selected_option": option("7")}},
        n={"a": {"type": "static_select", "selected_option": None}},
        x={"a": {"type": "external_select", "selected_option": option("ext")}},
    )
    assert values.selected("b", "a") == "7"
    assert values.selected("n", "a") is None
    assert values.selected("x", "a") == "ext"
    assert values.selected("untouched", "a") is None  # a message leaves it out
    assert state(b={}).selected("b", "a") is None


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "static_select", "selected_option": "7"},
        {"type": "static_select", "selected_option": {"text": "seven"}},
        {"type": "static_select", "selected_option": option(7)},
        {"type": "multi_static_select", "selected_options": [option("7")]},
        {"type": "plain_text_input", "value": "7"},
        {"selected_option": option("7")},
        "7",
    ],
)
def test_a_malformed_select_is_refused(entry: object) -> None:
    with pytest.raises(InvalidRequest, match="I could not read the organisation"):
        state(b={"a": entry}).selected("b", "a", label="the organisation")


# --- multi-selects and checkboxes -------------------------------------------------------


def test_a_multi_select_and_checkboxes_read_the_chosen_values_in_order() -> None:
    values = state(
        m={"a": {"type": "multi_static_select", "selected_options": [option("S2"), option("S1")]}},
        c={"a": {"type": "checkboxes", "selected_options": [option("yes")]}},
        e={"a": {"type": "checkboxes", "selected_options": []}},
    )
    assert values.multi_selected("m", "a") == ["S2", "S1"]
    assert values.checked("c", "a") == ["yes"]
    assert values.checked("e", "a") == []
    assert values.multi_selected("untouched", "a") == []
    assert values.checked("untouched", "a") == []


@pytest.mark.parametrize(
    ("kind", "entry"),
    [
        ("multi", {"type": "multi_static_select", "selected_options": "S1"}),
        ("multi", {"type": "multi_static_select", "selected_options": [option("S1"), {}]}),
        ("multi", {"type": "multi_static_select", "selected_options": [option(None)]}),
        ("multi", {"type": "checkboxes", "selected_options": [option("S1")]}),
        ("multi", {"type": "static_select", "selected_option": option("S1")}),
        ("checkboxes", {"type": "checkboxes", "selected_options": {"value": "yes"}}),
        ("checkboxes", {"type": "multi_static_select", "selected_options": [option("yes")]}),
        ("checkboxes", ["yes"]),
    ],
)
def test_malformed_multi_selects_and_checkboxes_are_refused(kind: str, entry: object) -> None:
    values = state(b={"a": entry})
    read = values.multi_selected if kind == "multi" else values.checked
    with pytest.raises(InvalidRequest, match="I could not read the stores"):
        read("b", "a", label="the stores")


# --- the state itself -------------------------------------------------------------------


def test_a_holder_without_state_reads_as_nothing_chosen() -> None:
    assert ViewState.of(None).multi_selected("b", "a") == []
    assert ViewState.of({"type": "block_actions"}).selected("b", "a") is None
    with pytest.raises(InvalidRequest):
        ViewState.of({}).text("b", "a", max_length=5)


@pytest.mark.parametrize("broken", [{"values": "x"}, {"values": None}, {}, "x", []])
def test_a_state_that_is_not_one_is_refused(broken: object) -> None:
    with pytest.raises(InvalidRequest, match="I could not read the form"):
        ViewState.of({"state": broken})


# --- where the bot reads state ----------------------------------------------------------


async def test_a_customer_modal_with_a_malformed_name_is_answered_in_the_modal(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key-acme", group="acme")
    await slack.command("customer add")
    await slack.workspace.wait_for("views.open")
    (view,) = slack.workspace.views_of(AGENT)
    forged = {"type": "static_select", "selected_option": option("Acme")}
    values: dict[str, dict[str, Any]] = {
        ids.NAME_BLOCK: {ids.NAME_INPUT: forged},
        ids.KEY_BLOCK: {ids.KEY_INPUT: "key-acme"},
    }

    response = await slack.driver.submit(view, values, user_id=AGENT)

    assert response.json()["response_action"] == "update"
    shown = json.dumps(slack.workspace.views_of(AGENT)[-1].view)
    assert "I could not read the customer name in what Slack sent" in shown
    with pytest.raises(NotFound):
        await find_customer(slack.deps, query="Acme")


async def test_a_customer_modal_with_an_overlong_key_shows_it_on_the_key(slack: Slack) -> None:
    await slack.command("customer add")
    await slack.workspace.wait_for("views.open")
    (view,) = slack.workspace.views_of(AGENT)
    key = "k" * (ids.KEY_MAX_LENGTH + 1)
    values = {ids.NAME_BLOCK: {ids.NAME_INPUT: "Acme"}, ids.KEY_BLOCK: {ids.KEY_INPUT: key}}

    response = await slack.driver.submit(view, values, user_id=AGENT)

    answer = response.json()
    assert answer == {
        "response_action": "errors",
        "errors": {ids.KEY_BLOCK: f"Keep the API key under {ids.KEY_MAX_LENGTH} characters."},
    }


async def test_a_malformed_store_list_is_answered_not_half_read(
    slack: Slack, cloudpos: CloudPosEmulator
) -> None:
    cloudpos.add_account("key-acme", group="acme", stores=2)
    await domain.customers.register(slack.deps, name="Acme", api_key="key-acme", actor="t")
    await slack.command("stores Acme")
    card = await slack.answer()
    slack.driver.state_of(card)[ids.STORE_PICKER] = {
        ids.STORE_PICKER: {"type": "multi_static_select", "selected_options": "S001"}
    }

    await slack.driver.click(card, ids.SEND_LINK_FOR_SELECTED, user_id=AGENT)

    warning = await slack.answer(count=2)
    assert warning.text.startswith(":warning: I could not read the stores in what Slack sent")
    assert slack.channel() == []
