"""`/xero links [customer]`: the links customers can still use, oldest first, as agents see
them, with Revoke for admins only."""

from __future__ import annotations

import json

import pytest

from bot import domain
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message
from tests.conftest import Clock
from tests.domain_helpers import registered
from tests.handlers.slack.admin_helpers import timed
from tests.slack_fixtures import ADMIN, AGENT, Slack


def shown(message: Message) -> str:
    return json.dumps(message.blocks)


def revoke_buttons(message: Message) -> list[int]:
    return [
        ids.int_field(ids.decode(block["accessory"]["value"]), "r")
        for block in message.blocks
        if block.get("accessory", {}).get("action_id") == ids.REVOKE_LINK
    ]


@pytest.fixture
async def two_customers(slack: Slack, cloudpos: CloudPosEmulator, clock: Clock) -> Slack:
    acme = await registered(slack.deps, cloudpos, name="Acme <Bikes>", stores=2)
    zeta = await registered(slack.deps, cloudpos, name="Zeta", stores=1)
    for customer, codes in ((acme, ["S001"]), (zeta, ["S001"]), (acme, ["S002"])):
        await domain.links.issue(
            slack.deps, customer_id=customer.id, store_codes=codes, actor=f"slack:{AGENT}"
        )
        clock.advance(hours=1)
    return slack


async def test_every_waiting_link_oldest_first_with_revoke_for_admins(two_customers: Slack) -> None:
    await timed(two_customers.command("links", user=ADMIN))
    answer = await two_customers.answer(user=ADMIN)

    assert answer.text == "3 open consent links"
    blocks = shown(answer)
    assert blocks.index("Link #1") < blocks.index("Link #2") < blocks.index("Link #3")
    assert "Acme &lt;Bikes&gt;" in blocks
    assert "<Bikes>" not in blocks
    assert f"Issued by <@{AGENT}>" in blocks
    assert revoke_buttons(answer) == [1, 2, 3]


async def test_an_agent_sees_the_links_without_a_button_that_would_refuse_them(
    two_customers: Slack,
) -> None:
    await two_customers.command("links")
    answer = await two_customers.answer()
    assert answer.text == "3 open consent links"
    assert revoke_buttons(answer) == []


async def test_one_customers_links_and_none_once_withdrawn_or_expired(
    two_customers: Slack, clock: Clock
) -> None:
    await two_customers.command('links "Acme <Bikes>"', user=ADMIN)
    answer = await two_customers.answer(user=ADMIN)
    assert answer.text == "2 open consent links for Acme &lt;Bikes&gt;"  # fallback text is mrkdwn
    assert revoke_buttons(answer) == [1, 3]

    await domain.links.revoke(two_customers.deps, consent_request_id=1, actor=f"slack:{ADMIN}")
    await two_customers.command("links zeta", user=ADMIN)
    assert revoke_buttons(await two_customers.answer(count=2, user=ADMIN)) == [2]

    clock.advance(days=4)
    await two_customers.command("links", user=ADMIN)
    nothing = await two_customers.answer(count=3, user=ADMIN)
    assert nothing.text == "No open consent links."
    assert revoke_buttons(nothing) == []


async def test_revoke_from_the_list_withdraws_that_link(two_customers: Slack) -> None:
    await two_customers.command("links zeta", user=ADMIN)
    listed = await two_customers.answer(user=ADMIN)

    await two_customers.driver.click(listed, ids.REVOKE_LINK, user_id=ADMIN, value=ids.encode(r=2))

    revoked = await two_customers.answer(count=2, user=ADMIN)
    assert "Link #2 is revoked" in revoked.text
    view = await domain.links.get(two_customers.deps, consent_request_id=2)
    assert (view.status.value, view.finished_by) == ("revoked", f"slack:{ADMIN}")


async def test_an_unknown_customer_is_said_so(two_customers: Slack) -> None:
    await two_customers.command("links Nobody")
    answer = await two_customers.answer()
    assert answer.text.startswith(":warning:")
    assert "No customer matches 'Nobody'" in answer.text
