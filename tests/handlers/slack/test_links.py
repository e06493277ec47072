"""Issuing links from Slack: nothing is issued or withdrawn by a slip of the keyboard."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from handlers.slack import ids
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.fake_slack import Message
from storage.models import ConsentRequest, ConsentStatus
from tests.domain_helpers import registered
from tests.slack_fixtures import AGENT, CHANNEL, Slack


def text_of(message: Message) -> str:
    return message.text + json.dumps(message.blocks)


async def links_by_status(slack: Slack) -> dict[str, int]:
    async with slack.deps.sessions() as session:
        rows = await session.execute(
            select(ConsentRequest.status, func.count()).group_by(ConsentRequest.status)
        )
        return {status.value: count for status, count in rows.all()}


@pytest.fixture
async def acme(slack: Slack, cloudpos: CloudPosEmulator) -> Slack:
    await registered(slack.deps, cloudpos, name="Acme Bikes", stores=3)
    return slack


@pytest.mark.parametrize(
    ("typed", "warning"),
    [
        ('link "Acme Bikes', "A quote is not closed"),
        ("link acme", 'Say which stores: `/xero link "Acme Bikes" S001 S002`'),
        ('link "Acme Bikes"', '`/xero link "Acme Bikes" all` for every store'),
    ],
)
async def test_a_slip_issues_nothing(acme: Slack, typed: str, warning: str) -> None:
    await acme.command('link "Acme Bikes" S001')
    await acme.answer()

    await acme.command(typed)

    answer = await acme.answer(count=2)
    assert answer.text.startswith(":warning:")
    assert warning in answer.text
    assert await links_by_status(acme) == {"issued": 1}
    assert len(acme.channel()) == 1


async def test_replacing_an_open_link_is_confirmed_by_its_number(acme: Slack) -> None:
    await acme.command('link "Acme Bikes" S001 S002')
    await acme.answer()
    (first_record,) = acme.channel()

    await acme.command('link "Acme Bikes" all')

    confirmation = await acme.answer(count=2)
    assert "may already have open link #1 (`S001`, `S002`), issued by <@U0AGENT>" in (
        confirmation.text + json.dumps(confirmation.blocks)
    )
    assert await links_by_status(acme) == {"issued": 1}

    await acme.driver.click(confirmation, ids.REPLACE_LINK, user_id=AGENT)

    await acme.workspace.wait_for("chat.update")
    assert await links_by_status(acme) == {"revoked": 1, "issued": 1}
    old_record = acme.workspace.message(CHANNEL, first_record.ts)
    assert old_record is not None
    assert "replaced by link #2 (<@U0AGENT>)" in text_of(old_record)
    assert "waiting for the customer" not in text_of(old_record)
    new_record = acme.channel()[-1]
    assert "Consent link #2" in text_of(new_record)
    assert "waiting for the customer" in text_of(new_record)
    replaced = acme.workspace.ephemeral(CHANNEL, "U0AGENT")[-1]
    assert replaced.ts == confirmation.ts
    assert "/connect/" in replaced.text


async def test_keeping_the_open_link_issues_nothing(acme: Slack) -> None:
    await acme.command('link "Acme Bikes" S001')
    await acme.answer()
    await acme.command('link "Acme Bikes" S001 S003')
    confirmation = await acme.answer(count=2)

    await acme.driver.click(confirmation, ids.KEEP_LINK, user_id=AGENT)

    kept = await acme.answer(count=3)
    assert kept.ts == confirmation.ts
    assert "Kept link #1; no new link was issued." in kept.text
    assert await links_by_status(acme) == {"issued": 1}


async def test_a_link_opened_after_the_confirmation_is_asked_about_again(acme: Slack) -> None:
    await acme.command('link "Acme Bikes" S001')
    await acme.answer()
    await acme.command('link "Acme Bikes" all')
    confirmation = await acme.answer(count=2)
    await domain.links.issue(acme.deps, customer_id=1, store_codes=["S002"], actor="other")

    await acme.driver.click(confirmation, ids.REPLACE_LINK, user_id=AGENT)

    asked_again = await acme.answer(count=3)
    assert "#1" in asked_again.text
    assert "#2" in asked_again.text
    assert await links_by_status(acme) == {ConsentStatus.ISSUED.value: 2}


async def test_a_link_with_a_quoted_customer_name_is_issued_in_one_trip(
    acme: Slack, cloudpos: CloudPosEmulator, engine: AsyncEngine
) -> None:
    for n in range(20):
        await registered(acme.deps, cloudpos, name=f"Other Shop {n}", stores=1)
    counts = {}
    for typed in ('link "Acme Bikes" S001 S003', "link Acme Bikes S002"):
        statements: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                statements.append(statement)  # noqa: B023 - used before the next loop turn

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            await acme.command(typed)
            await acme.workspace.wait_for("chat.postMessage", count=len(counts) + 1)
            await acme.answer(count=len(counts) + 1)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        counts[typed] = len(statements)
    print(f"SQL statements per /xero link: {counts}")

    quoted, unquoted = counts.values()
    assert quoted < unquoted
    assert quoted <= 10  # the name, then issuing (customer, stores, open links, the link,
    # its stores, their states, the audit event, the organisations counted against the app's
    # Xero tier), then attaching the thread: three transactions
    assert await links_by_status(acme) == {"issued": 2}
