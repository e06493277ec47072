"""Shared by the admin-only tests: the refusal as the agent reads it, timing the answer to
Slack, and the `access.refused` audit rows."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable

import httpx
from sqlalchemy import select

from storage.models import AuditEvent
from tests.slack_fixtures import Slack

ON_TIME = 1.0
REFUSED = (
    ":warning: Only helpdesk admins can {what}. Ask one to do it, or to add you to "
    "ADMIN_USERS or the admin user group."
)


async def timed(request: Awaitable[httpx.Response]) -> httpx.Response:
    """The answer to Slack: HTTP 200, in well under Slack's 3 seconds.

    The garbage collector is paused meanwhile: a full collection of the whole suite's heap,
    late in a run, once took over a second, and that is not the bot's answer being slow."""
    gc.disable()
    try:
        started = time.monotonic()
        response = await request
        elapsed = time.monotonic() - started
    finally:
        gc.enable()
    assert response.status_code == 200, (response.status_code, response.text)
    assert elapsed < ON_TIME, f"Slack got its answer after {elapsed:.2f}s"
    return response


async def refusals(slack: Slack, *, count: int = 0) -> list[tuple[str, str]]:
    """The `access.refused` audit rows as (actor, attempted), once `count` are there (they
    are written after the ack)."""
    deadline = time.monotonic() + 3
    while True:
        async with slack.deps.sessions() as session:
            events = (
                await session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == "access.refused")
                    .order_by(AuditEvent.id)
                )
            ).all()
        found = [(event.actor, str(event.detail["attempted"])) for event in events]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)
