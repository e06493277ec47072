"""External selects' options requests (`block_suggestion`) and the "Posting set-up" modal's
elements (radio buttons, date pickers, option groups, optional inputs, a Copy-from select in
an actions block), driven through the fake Slack and a Bolt app over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import ModalView, SignedRequest, SuggestionError, block_suggestion
from tests.sandbox.setup_stand_in import (
    AGENT,
    AUTHORISED,
    DRAFT,
    HELPDESK,
    SECRET,
    STORES,
    Served,
    account,
    option,
    plain,
    setup_over_fake_slack,
    setup_view,
)
from tests.sandbox.slack_errors import error_of


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with setup_over_fake_slack() as served:
        yield served


async def open_setup(served: Served) -> ModalView:
    """/xero as the agent: the Bolt app opens the Posting set-up modal."""
    assert (await served.driver.command("setup", user_id=AGENT)).status_code == 200
    await served.workspace.wait_for("views.open")
    (view,) = served.workspace.views_of(AGENT)
    return view


def payload_of(request: SignedRequest) -> dict[str, Any]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)
    assert not SignatureVerifier("another").is_valid_request(request.body, request.headers)
    (raw,) = parse_qs(request.body)["payload"]
    found = json.loads(raw)
    assert isinstance(found, dict)
    return found


UNTOUCHED = {
    "sales-200": {"account": {"type": "external_select", "selected_option": account("200")}},
    "contact": {"contact": {"type": "external_select", "selected_option": None}},
    "status-DRAFT": {"status": {"type": "radio_buttons", "selected_option": DRAFT}},
    "start-2024-07-01": {"start": {"type": "datepicker", "selected_date": "2024-07-01"}},
    "end": {"end": {"type": "datepicker", "selected_date": None}},
    "stores": {"stores": {"type": "multi_external_select", "selected_options": [STORES[0]]}},
    "tracking": {"tracking": {"type": "static_select", "selected_option": None}},
    "tax": {"tax": {"type": "static_select", "selected_option": option("No GST", "NONE")}},
}


async def test_suggest_sends_a_signed_block_suggestion_with_the_view(served: Served) -> None:
    view = await open_setup(served)
    found = await served.driver.suggest(view, "account", value="rev", user_id=AGENT)
    assert found == [account("260")]

    payload = payload_of(served.sent[-1])
    assert served.bot.suggestions == [payload]
    assert {key: payload[key] for key in ("type", "action_id", "block_id", "value")} == {
        "type": "block_suggestion",
        "action_id": "account",
        "block_id": "sales-200",
        "value": "rev",
    }
    assert payload["user"]["id"] == AGENT
    assert (payload["team"]["id"], payload["api_app_id"]) == ("T0SANDBOX", "A0SANDBOX")
    assert payload["container"] == {"type": "view", "view_id": view.id}
    sent_view = payload["view"]
    assert (sent_view["id"], sent_view["hash"], sent_view["type"]) == (view.id, view.hash, "modal")
    assert (sent_view["callback_id"], sent_view["private_metadata"]) == (
        "posting_setup",
        "store-42",
    )
    assert sent_view["blocks"] == setup_view()["blocks"]
    assert sent_view["state"] == {"values": {}}
    assert "channel" not in payload


async def test_an_answer_in_option_groups_is_flattened_in_order(served: Served) -> None:
    view = await open_setup(served)
    found = await served.driver.suggest(view, "contact", value="A", user_id=AGENT)
    assert found == [option("A Ltd", "c1"), option("A & Co", "c2"), option("Acme Supplies", "s1")]
    assert served.bot.suggestions[-1]["block_id"] == "contact"


async def test_a_chosen_suggestion_is_submitted_as_the_app_gave_it(served: Served) -> None:
    view = await open_setup(served)
    await served.driver.suggest(view, "contact", value="Bo", user_id=AGENT)
    await served.driver.suggest(view, "account", value="adv", user_id=AGENT)
    assert await served.driver.suggest(view, "stores", value="", user_id=AGENT) == STORES
    values = {
        "stores": {"stores": ["hull", "york"]},
        "sales-200": {"account": "400"},
        "contact": {"contact": "c2"},
        "status-DRAFT": {"status": "AUTHORISED"},
        "start-2024-07-01": {"start": "2024-07-15"},
        "end": {"end": "2025-06-30"},
        "tracking": {"tracking": "shop"},
        "tax": {"tax": "EXEMPT"},
    }
    response = await served.driver.submit(view, values, user_id=AGENT)
    assert response.status_code == 200
    assert view.closed
    (body,) = served.bot.submitted
    assert body["view"]["state"]["values"] == {
        "sales-200": {
            "account": {
                "type": "external_select",
                "selected_option": option("400 · Advertising <b>&</b>", "400"),
            }
        },
        "contact": {
            "contact": {"type": "external_select", "selected_option": option("Bo & Co", "c2")}
        },
        "stores": {
            "stores": {"type": "multi_external_select", "selected_options": [STORES[2], STORES[0]]}
        },
        "status-DRAFT": {"status": {"type": "radio_buttons", "selected_option": AUTHORISED}},
        "start-2024-07-01": {"start": {"type": "datepicker", "selected_date": "2024-07-15"}},
        "end": {"end": {"type": "datepicker", "selected_date": "2025-06-30"}},
        "tracking": {
            "tracking": {"type": "static_select", "selected_option": option("Shop", "shop")}
        },
        "tax": {"tax": {"type": "static_select", "selected_option": option("Exempt", "EXEMPT")}},
    }


async def test_untouched_inputs_send_their_initial_values_and_optional_ones_null(
    served: Served,
) -> None:
    view = await open_setup(served)
    assert (await served.driver.submit(view, {}, user_id=AGENT)).status_code == 200
    (body,) = served.bot.submitted
    assert body["view"]["state"]["values"] == UNTOUCHED
    assert body["view"]["private_metadata"] == "store-42"


async def test_optional_inputs_emptied_again_send_null(served: Served) -> None:
    view = await open_setup(served)
    emptied = {
        "end": {"end": None},
        "tracking": {"tracking": None},
        "contact": {"contact": None},
        "stores": {"stores": []},
    }
    await served.driver.submit(view, emptied, user_id=AGENT)
    nothing = {"type": "multi_external_select", "selected_options": []}
    assert served.bot.submitted[0]["view"]["state"]["values"] == {
        **UNTOUCHED,
        "stores": {"stores": nothing},
    }


async def test_inline_errors_keep_the_modal_open(served: Served) -> None:
    view = await open_setup(served)
    await served.driver.submit(view, {"end": {"end": "1999-01-01"}}, user_id=AGENT)
    assert (view.closed, view.errors) == (False, {"end": "The end is before the start"})


async def test_a_copy_from_select_in_the_modal_sends_block_actions_with_the_view(
    served: Served,
) -> None:
    view = await open_setup(served)
    first_hash = view.hash
    typed = {"end": {"end": "2025-01-31"}, "sales-200": {"account": "200"}}
    response = await served.driver.select(
        view, "copy_from", values=["leeds"], user_id=AGENT, inputs=typed
    )
    assert response is not None
    assert response.status_code == 200
    await served.workspace.wait_for("views.update")
    payload = payload_of(served.sent[-1])
    (body,) = served.bot.actions
    assert payload == body
    assert body["type"] == "block_actions"
    assert body["container"] == {"type": "view", "view_id": view.id}
    assert (body["view"]["id"], body["view"]["hash"]) == (view.id, first_hash)
    assert body["view"]["private_metadata"] == "store-42"
    assert body["view"]["state"]["values"] == {
        "copy": {
            "copy_from": {
                "type": "static_select",
                "selected_option": option("Store Leeds", "leeds"),
            }
        },
        "end": {"end": {"type": "datepicker", "selected_date": "2025-01-31"}},
        "sales-200": {"account": {"type": "external_select", "selected_option": account("200")}},
    }
    (action,) = body["actions"]
    assert (action["action_id"], action["block_id"], action["type"]) == (
        "copy_from",
        "copy",
        "static_select",
    )
    assert action["selected_option"] == option("Store Leeds", "leeds")
    assert {"channel", "response_url"}.isdisjoint(body)
    assert [c.error for c in served.workspace.calls_to("views.update")] == [None]

    # The copied choices are the modal's now: new block ids, so their initial values count.
    assert view.hash != first_hash
    await served.driver.submit(view, {}, user_id=AGENT)
    values = served.bot.submitted[0]["view"]["state"]["values"]
    assert values["sales-260"]["account"]["selected_option"] == account("260")
    assert values["status-AUTHORISED"]["status"]["selected_option"] == AUTHORISED
    assert values["start-2024-08-01"]["start"]["selected_date"] == "2024-08-01"
    assert values["end"]["end"]["selected_date"] == "2025-01-31"
    assert "sales-200" not in values  # that block is gone, and what was chosen in it


async def test_suggest_refuses_short_text_and_other_elements_sending_nothing(
    served: Served,
) -> None:
    view = await open_setup(served)
    before = len(served.sent)
    with pytest.raises(ValueError, match="from 3 characters typed"):
        await served.driver.suggest(view, "account", value="sa", user_id=AGENT)
    with pytest.raises(ValueError, match="from 1 characters typed"):
        await served.driver.suggest(view, "contact", value="", user_id=AGENT)
    with pytest.raises(ValueError, match="not an external select"):
        await served.driver.suggest(view, "tax", value="gst", user_id=AGENT)
    assert len(served.sent) == before
    assert await served.driver.suggest(view, "account", value="sal", user_id=AGENT) == [
        account("200")
    ]


async def test_a_bad_answer_to_an_options_request_is_a_clear_error(served: Served) -> None:
    """A failing app, then answers Slack would not take."""
    view = await open_setup(served)
    served.driver.send = answering(b"Not found", status=404)
    with pytest.raises(SuggestionError, match="HTTP 404: Not found"):
        await served.driver.suggest(view, "account", value="sal", user_id=AGENT)
    served.driver.send = answering(b'{"ok": true}')
    with pytest.raises(SuggestionError, match="answer is not"):
        await served.driver.suggest(view, "account", value="sal", user_id=AGENT)
    served.driver.send = answering(b'{"options": [{"value": "1"}]}')
    with pytest.raises(SuggestionError, match="text object"):
        await served.driver.suggest(view, "account", value="sal", user_id=AGENT)
    served.driver.send = answering(b'{"option_groups": [{"options": []}]}')
    with pytest.raises(SuggestionError, match="label"):
        await served.driver.suggest(view, "account", value="sal", user_id=AGENT)


def answering(
    body: bytes, status: int = 200
) -> Callable[[SignedRequest], Awaitable[httpx.Response]]:
    """A send that answers every request with `body`, as a wrongly written app might."""

    async def send(request: SignedRequest) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return send


async def test_suggest_in_a_message_names_the_channel(served: Served) -> None:
    blocks = [
        {
            "type": "section",
            "block_id": "find",
            "text": {"type": "mrkdwn", "text": "Find an account"},
            "accessory": {"type": "external_select", "action_id": "account"},
        }
    ]
    message = served.workspace.post(HELPDESK, text="Find", blocks=blocks)
    assert await served.driver.suggest(message, "account", value="sales", user_id=AGENT) == [
        account("200")
    ]
    payload = payload_of(served.sent[-1])
    assert payload["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": HELPDESK,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": HELPDESK, "name": "helpdesk"}
    assert "view" not in payload
    await served.driver.select(message, "account", values=["200"], user_id=AGENT)
    chosen = served.driver.state_of(message)["find"]["account"]["selected_option"]
    assert chosen == account("200")
    (body,) = served.bot.actions
    assert body["actions"][0]["selected_option"] == account("200")
    assert body["container"]["type"] == "message"


def test_a_block_suggestion_needs_a_view_or_a_container() -> None:
    with pytest.raises(ValueError, match="from a view or a message"):
        block_suggestion(
            signing_secret=SECRET, user_id=AGENT, action_id="a", block_id="b", value="x"
        )


BAD_ELEMENTS = [
    {
        "type": "static_select",
        "action_id": "a",
        "options": [option("A", "a")],
        "initial_option": option("B", "b"),
    },
    {"type": "static_select", "action_id": "a", "options": [option("A", "a")], "option_groups": []},
    {"type": "static_select", "action_id": "a"},
    {
        "type": "radio_buttons",
        "action_id": "a",
        "option_groups": [{"label": plain("G"), "options": [option("A", "a")]}],
    },
    {
        "type": "radio_buttons",
        "action_id": "a",
        "options": [option(str(n), str(n)) for n in range(11)],
    },
    {"type": "datepicker", "action_id": "a", "initial_date": "01/07/2024"},
    {"type": "datepicker", "action_id": "a", "initial_date": "2024-02-30"},
    {"type": "external_select", "action_id": "a", "min_query_length": -1},
    {"type": "external_select", "action_id": "a", "options": [option("A", "a")]},
    {"type": "external_select", "action_id": "a", "initial_option": {"value": "a"}},
]


@pytest.mark.parametrize("element", BAD_ELEMENTS, ids=lambda e: f"{e['type']}:{sorted(e)}")
async def test_views_refuse_elements_slack_refuses(served: Served, element: dict[str, Any]) -> None:
    view = await open_setup(served)
    bad = {**setup_view(), "blocks": [{"type": "input", "label": plain("X"), "element": element}]}
    trigger = served.workspace.new_trigger_id(AGENT)
    assert await error_of(served.bot.client.views_open(trigger_id=trigger, view=bad)) == (
        "invalid_arguments"
    )
    update = served.bot.client.views_update(view_id=view.id, view=bad)
    assert await error_of(update) == "invalid_arguments"
    twice = {**setup_view(), "blocks": [setup_view()["blocks"][1]] * 2}
    assert await error_of(served.bot.client.views_update(view_id=view.id, view=twice)) == (
        "invalid_arguments"
    )
    assert served.workspace.view(view.id).view == setup_view()


async def test_a_date_that_is_not_a_date_is_refused_by_the_driver(served: Served) -> None:
    view = await open_setup(served)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        await served.driver.submit(view, {"end": {"end": "next week"}}, user_id=AGENT)
    with pytest.raises(LookupError, match="no option 'PAID'"):
        await served.driver.submit(view, {"status-DRAFT": {"status": "PAID"}}, user_id=AGENT)
    assert served.bot.submitted == []
