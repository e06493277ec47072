"""The admin-only listener middleware on `/xero disconnect`, Revoke link and Disconnect: a
non-admin is refused at once, where they are looking, and every refusal is audited; an
admin's request reaches the listener.

Each request is signed and sent to the app over HTTP, as Slack sends it; the warning is
read from what the fake Slack delivered and the audit row from the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from bot import domain
from bot.domain import Dependencies
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message
from sandbox.xero_emulator import XeroEmulator
from tests.domain_helpers import registered
from tests.handlers.slack.admin_helpers import REFUSED, refusals, timed
from tests.slack_fixtures import (
    ADMIN,
    AGENT,
    CHANNEL,
    Slack,
    connected_through_xero,
    issued_link,
    with_revoke_button,
)
from tests.web_fixtures import Organisations

DISCONNECT_REFUSED = REFUSED.format(what="disconnect organisations")
REVOKE_REFUSED = REFUSED.format(what="revoke consent links")


def text_of(message: Message) -> str:
    return message.text + json.dumps(message.blocks)


def as_seen_by(message: Message, user: str) -> Message:
    return Message(**{**message.__dict__, "ephemeral_to": user})


@pytest.fixture
async def acme(slack: Slack, cloudpos: CloudPosEmulator) -> Slack:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=2)
    return slack


@pytest.fixture
async def connected(acme: Slack, emulator: XeroEmulator, organisations: Organisations) -> str:
    """Acme Bikes' stores connected to one organisation; its tenant id."""
    token = await issued_link(acme, 'link "Acme Bikes" all')
    tenant = organisations.standard.tenant_id
    await connected_through_xero(acme.deps, emulator, token, tenant)
    return tenant


async def confirmation(slack: Slack, *, answers_so_far: int) -> Message:
    """The Disconnect confirmation an admin gets from `/xero disconnect`."""
    await slack.command('disconnect "Acme Bikes" "Acme Ltd"', user=ADMIN)
    await slack.workspace.wait_for("response_url", count=answers_so_far + 1)
    message = slack.workspace.ephemeral(CHANNEL, ADMIN)[-1]
    assert ids.DISCONNECT in text_of(message)
    return message


# --- typed /xero disconnect -------------------------------------------------------------


async def test_a_non_admin_typing_disconnect_is_refused_and_audited(acme: Slack) -> None:
    response = await timed(acme.command('disconnect "Acme Bikes" "Acme Ltd"'))

    assert response.text == ""  # the warning comes through the response URL, as before
    answer = await acme.answer()
    assert answer.text == DISCONNECT_REFUSED
    assert acme.channel() == []
    assert await refusals(acme, count=1) == [
        (f"slack:{AGENT}", "/xero disconnect Acme Bikes Acme Ltd")
    ]


async def test_an_admin_typing_disconnect_gets_the_confirmation(
    acme: Slack, connected: str
) -> None:
    message = await confirmation(acme, answers_so_far=1)

    assert "Only helpdesk admins" not in text_of(message)
    assert await refusals(acme) == []


@pytest.mark.parametrize("text", ['summary "Acme Bikes"', 'stores "Acme Bikes"', "help"])
async def test_the_other_subcommands_stay_open_to_every_agent(acme: Slack, text: str) -> None:
    await timed(acme.command(text))

    answer = await acme.answer()
    assert "Only helpdesk admins" not in text_of(answer)
    assert await refusals(acme) == []


async def test_disconnect_with_an_unclosed_quote_is_told_about_the_quote(acme: Slack) -> None:
    """As before the middleware: words that cannot be read are not an attempt."""
    await timed(acme.command('disconnect "Acme Bikes'))

    assert "A quote is not closed" in (await acme.answer()).text
    assert await refusals(acme) == []


# --- Revoke link ------------------------------------------------------------------------


async def test_a_forged_revoke_by_a_non_admin_is_refused_and_audited(acme: Slack) -> None:
    await acme.command('link "Acme Bikes" all')
    private = await acme.answer()
    forged = with_revoke_button(private, consent_request_id=1)

    await timed(acme.driver.click(forged, ids.REVOKE_LINK, user_id=AGENT))

    warning = await acme.answer(count=2)
    assert warning.text == REVOKE_REFUSED
    assert await refusals(acme, count=1) == [(f"slack:{AGENT}", "revoke link #1")]
    assert (await domain.links.get(acme.deps, consent_request_id=1)).status == "issued"


async def test_a_revoke_with_a_garbled_value_by_a_non_admin_is_out_of_date(acme: Slack) -> None:
    """As before: a value that names no link is answered as a stale button, unaudited."""
    await acme.command('link "Acme Bikes" all')
    private = await acme.answer()
    forged = with_revoke_button(private, consent_request_id=1)
    forged.blocks[-1]["elements"][0]["value"] = "not json"

    await timed(acme.driver.click(forged, ids.REVOKE_LINK, user_id=AGENT))

    warning = await acme.answer(count=2)
    assert warning.text == ":warning: That button is out of date. Run the command again."
    assert await refusals(acme) == []


async def test_an_admin_revokes_a_link(acme: Slack) -> None:
    await acme.command('link "Acme Bikes" all')
    private = await acme.answer()
    admins = as_seen_by(with_revoke_button(private, consent_request_id=1), ADMIN)

    await timed(acme.driver.click(admins, ids.REVOKE_LINK, user_id=ADMIN))

    await acme.workspace.wait_for("chat.update")
    assert (await domain.links.get(acme.deps, consent_request_id=1)).status == "revoked"
    assert await refusals(acme) == []


# --- Disconnect organisation ------------------------------------------------------------


async def test_a_forged_disconnect_by_a_non_admin_is_refused_and_audited(
    acme: Slack, connected: str, emulator: XeroEmulator
) -> None:
    forged = as_seen_by(await confirmation(acme, answers_so_far=1), AGENT)

    await timed(acme.driver.click(forged, ids.DISCONNECT, user_id=AGENT))

    await acme.workspace.wait_for("response_url", count=3)
    assert acme.workspace.ephemeral(CHANNEL, AGENT)[-1].text == DISCONNECT_REFUSED
    assert await refusals(acme, count=1) == [
        (f"slack:{AGENT}", f"disconnect organisation {connected}")
    ]
    assert len(emulator.connections_of("xero-user-1")) == 1


async def test_an_admin_disconnects_an_organisation(
    acme: Slack, connected: str, emulator: XeroEmulator
) -> None:
    message = await confirmation(acme, answers_so_far=1)

    await timed(acme.driver.click(message, ids.DISCONNECT, user_id=ADMIN))

    await acme.workspace.wait_for("response_url", count=4)
    assert "Disconnected *Acme Ltd*" in text_of(acme.workspace.ephemeral(CHANNEL, ADMIN)[-1])
    assert emulator.connections_of("xero-user-1") == []
    assert await refusals(acme) == []


# --- the ack never waits for the audit --------------------------------------------------


async def test_a_slow_audit_does_not_hold_up_the_ack(
    acme: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = domain.audit.record_refusal

    async def slowly(deps: Dependencies, **kwargs: Any) -> None:
        await asyncio.sleep(1.5)
        await record(deps, **kwargs)

    monkeypatch.setattr(domain.audit, "record_refusal", slowly)

    await timed(acme.command('disconnect "Acme Bikes" "Acme Ltd"'))

    assert (await acme.answer()).text == DISCONNECT_REFUSED
    assert await refusals(acme) == [(f"slack:{AGENT}", "/xero disconnect Acme Bikes Acme Ltd")]


async def test_an_audit_that_fails_still_refuses_and_is_logged(
    acme: Slack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(domain.audit, "record_refusal", broken)

    with caplog.at_level(logging.ERROR, logger="handlers.slack.admin"):
        await timed(acme.command('disconnect "Acme Bikes" "Acme Ltd"'))
        assert (await acme.answer()).text == DISCONNECT_REFUSED

    assert "could not audit a refused request" in caplog.text
