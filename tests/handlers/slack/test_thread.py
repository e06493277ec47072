"""The organisation choice in a link's thread, as Slack really sends it."""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qs

import httpx

from bot import domain
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message, SignedRequest
from sandbox.xero_emulator import XeroEmulator
from storage.models import StoreStatus
from tests.domain_helpers import registered, token_of
from tests.slack_fixtures import ADMIN, AGENT, CHANNEL, Slack, consent_through_xero, issued_link
from tests.web_fixtures import Organisations


def payload_of(request: SignedRequest) -> dict[str, object]:
    return json.loads(parse_qs(request.body)["payload"][0])


async def choice_in_thread(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, tenants: list[str]
) -> Message:
    """Two stores, a link for both, consent to `tenants`: the thread's organisation choice."""
    await registered(slack.deps, cloudpos, name="Acme", stores=2)
    token = await issued_link(slack, "link Acme all")
    (record,) = slack.channel()
    await consent_through_xero(slack.deps, emulator, token, tenants)
    (choice,) = slack.workspace.replies(CHANNEL, record.ts)
    return choice


async def test_an_untouched_preselected_organisation_counts_as_chosen(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, organisations: Organisations
) -> None:
    choice = await choice_in_thread(
        slack,
        cloudpos,
        emulator,
        [organisations.standard.tenant_id, organisations.starter.tenant_id],
    )
    sent: list[SignedRequest] = []
    deliver = slack.driver.send

    async def recording(request: SignedRequest) -> httpx.Response:
        sent.append(request)
        return await deliver(request)

    slack.driver.send = recording

    await slack.driver.click(choice, ids.CONFIRM_ORGANISATIONS, user_id=AGENT)

    state = payload_of(sent[0])["state"]
    assert isinstance(state, dict)
    untouched = state["values"][f"{ids.STORE_CHOICE_BLOCK_PREFIX}S001"][ids.ORGANISATION_CHOICE]
    assert untouched == {"type": "static_select", "selected_option": None}
    confirmed = (await slack.workspace.wait_for("response_url", count=2))[-1]
    assert "Confirmed by <@U0AGENT>" in json.dumps(confirmed.args)
    stores = (await domain.customers.get(slack.deps, customer_id=1)).stores
    assert {s.status for s in stores} == {StoreStatus.CONNECTED}


async def test_a_select_is_found_by_its_block_when_action_ids_repeat(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, organisations: Organisations
) -> None:
    choice = await choice_in_thread(
        slack,
        cloudpos,
        emulator,
        [organisations.standard.tenant_id, organisations.premium.tenant_id],
    )
    options = next(b for b in choice.blocks if b.get("block_id", "").startswith("store:"))
    premium = next(o["value"] for o in options["accessory"]["options"] if "Trading" in str(o))
    standard = next(o["value"] for o in options["accessory"]["options"] if "Acme Ltd" in str(o))

    for code, value in (("S001", standard), ("S002", premium)):
        await slack.driver.select(
            choice,
            ids.ORGANISATION_CHOICE,
            values=[value],
            user_id=AGENT,
            block_id=f"{ids.STORE_CHOICE_BLOCK_PREFIX}{code}",
        )
    await slack.driver.click(choice, ids.CONFIRM_ORGANISATIONS, user_id=AGENT)

    confirmed = (await slack.workspace.wait_for("response_url", count=2))[-1]
    assert "Confirmed by <@U0AGENT>" in json.dumps(confirmed.args)
    summary = await domain.organisations.summary(slack.deps, customer_id=1)
    assert {g.tenant_name: [s.code for s in g.stores] for g in summary.groups} == {
        "Acme Ltd": ["S001"],
        "Acme Trading": ["S002"],
    }


async def test_the_choice_in_the_thread_becomes_the_outcome_when_the_customer_confirms(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, organisations: Organisations
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=2)
    token = await issued_link(slack, "link Acme all")
    (record,) = slack.channel()
    await consent_through_xero(slack.deps, emulator, token, [organisations.standard.tenant_id])
    (choice,) = slack.workspace.replies(CHANNEL, record.ts)
    view = await domain.consent.open(slack.deps, token=token)
    standard = view.organisations[0].connection_id

    await domain.choice.confirm(
        slack.deps,
        token=token,
        choices={"S001": standard},
        actor="customer",
        leave_unconnected=["S002"],
    )

    replies = slack.workspace.replies(CHANNEL, record.ts)
    assert replies[0].ts == choice.ts
    outcome = json.dumps(replies[0].blocks)
    assert "Link #1 was already completed by the customer <!date^" in outcome
    assert "`S001` \\u2192 Acme Ltd" in outcome
    assert ids.CONFIRM_ORGANISATIONS not in outcome
    assert ids.ORGANISATION_CHOICE not in outcome
    completed = json.dumps(replies[-1].blocks)
    assert "left unconnected: S002" in completed
    assert "send a new link for them" in completed


async def test_revoking_from_slack_closes_the_choice_and_a_second_revoke_says_so(
    slack: Slack, cloudpos: CloudPosEmulator, emulator: XeroEmulator, organisations: Organisations
) -> None:
    await registered(slack.deps, cloudpos, name="Acme", stores=1)
    await slack.command("link Acme all", user=ADMIN)
    private = await slack.answer(user=ADMIN)
    stale = copy.deepcopy(private)
    token = token_of(next(w for w in private.text.split() if "/connect/" in w))
    (record,) = slack.channel()
    await consent_through_xero(slack.deps, emulator, token, [organisations.standard.tenant_id])

    await slack.driver.click(private, ids.REVOKE_LINK, user_id=ADMIN)
    await slack.workspace.wait_for("chat.update", count=3)
    (choice,) = slack.workspace.replies(CHANNEL, record.ts)
    assert "Link #1 was withdrawn by <@U0ADMIN>" in json.dumps(choice.blocks)

    await slack.driver.click(stale, ids.REVOKE_LINK, user_id=ADMIN)
    answer = await slack.answer(count=3, user=ADMIN)
    assert "Link #1 was withdrawn by <@U0ADMIN>" in answer.text
    assert "Nothing to revoke." in answer.text
    await slack.driver.click(stale, ids.POST_LINK, user_id=ADMIN)
    answer = await slack.answer(count=4, user=ADMIN)
    assert "Issue a new link." in answer.text
    assert [m.ts for m in slack.channel()] == [record.ts]
