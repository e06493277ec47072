"""The organisation choice in a link's thread, as Slack really sends it."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx

from bot.sandbox.fake_slack import SignedRequest
from bot.sandbox.xero_emulator import XeroEmulator
from handlers.slack import ids
from storage.models import StoreStatus
from tests.domain_helpers import registered
from tests.fakes import FakeCloudPos
from tests.slack_fixtures import AGENT, CHANNEL, Slack, consent_through_xero, issued_link
from tests.web_fixtures import Organisations


def payload_of(request: SignedRequest) -> dict[str, object]:
    return json.loads(parse_qs(request.body)["payload"][0])


async def test_an_untouched_preselected_organisation_counts_as_chosen(
    slack: Slack, cloudpos: FakeCloudPos, emulator: XeroEmulator, organisations: Organisations
) -> None:
    await registered(slack.service, cloudpos, name="Acme", stores=2)
    token = await issued_link(slack, "link Acme all")
    (record,) = slack.channel()
    tenants = [organisations.standard.tenant_id, organisations.starter.tenant_id]
    await consent_through_xero(slack.service, emulator, token, tenants)
    (choice,) = slack.workspace.replies(CHANNEL, record.ts)
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
    stores = (await slack.service.get_customer(customer_id=1)).stores
    assert {s.status for s in stores} == {StoreStatus.CONNECTED}


async def test_a_select_is_found_by_its_block_when_action_ids_repeat(
    slack: Slack, cloudpos: FakeCloudPos, emulator: XeroEmulator, organisations: Organisations
) -> None:
    await registered(slack.service, cloudpos, name="Acme", stores=2)
    token = await issued_link(slack, "link Acme all")
    (record,) = slack.channel()
    tenants = [organisations.standard.tenant_id, organisations.premium.tenant_id]
    await consent_through_xero(slack.service, emulator, token, tenants)
    (choice,) = slack.workspace.replies(CHANNEL, record.ts)
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
    summary = await slack.service.summary(customer_id=1)
    assert {g.tenant_name: [s.code for s in g.stores] for g in summary.groups} == {
        "Acme Ltd": ["S001"],
        "Acme Trading": ["S002"],
    }
