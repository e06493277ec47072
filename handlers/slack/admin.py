"""What only helpdesk admins may do: one Bolt listener middleware refuses everyone else.

It goes on the listener's registration, for commands, actions and views alike:

    app.action(ids.REVOKE_LINK, middleware=[admin_only("revoke consent links", revoking)])

`attempted(payload)` reads Bolt's `payload` (the clicked action, the command, the submitted
view) and says what the request would do, for the audit log, or None when this request
needs no admin (of all `/xero`, only `disconnect` does). It may raise a `DomainError` for a
payload it cannot read: the agent is then told so, as the listener would have told them,
and nothing is audited. Admins pass without `attempted` being asked.

Every click can be forged, so the check never trusts that a button was only shown to
admins. A refusal is acknowledged at once, with the usual answer to a failure (`errors`:
a modal submission gets it in the modal); the audit row and the warning follow the ack,
in a work slot, as a listener's work does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse

from bot.domain import audit
from bot.domain.errors import DomainError, InvalidRequest

from .errors import Surface, acknowledge_failure, report, surface_of
from .runtime import RUNTIME_KEY, Runtime, actor_of

log = logging.getLogger(__name__)

Attempted = Callable[[dict[str, Any]], str | None]
ListenerMiddleware = Callable[[AsyncArgs], Awaitable[BoltResponse | None]]


def refusal(what: str) -> str:
    return (
        f"Only helpdesk admins can {what}. Ask one to do it, or to add you to "
        "ADMIN_USERS or the admin user group."
    )


def admin_only(what: str, attempted: Attempted) -> ListenerMiddleware:
    """A listener middleware letting admins through, and refusing anyone else whatever
    `attempted` names (`what`: the refusal's "Only helpdesk admins can <what>.")."""

    async def only_admins(args: AsyncArgs) -> BoltResponse | None:
        if args.context.get("is_admin"):
            await args.next()
            return None
        try:
            attempt = attempted(args.payload)
        except DomainError as error:
            return await _answer(error, args, audited=None)
        if attempt is None:
            await args.next()
            return None
        return await _answer(InvalidRequest(refusal(what)), args, audited=attempt)

    return only_admins


async def _answer(error: DomainError, args: AsyncArgs, *, audited: str | None) -> BoltResponse:
    """Acknowledge now (Bolt sends what this returns); audit and tell the agent after."""
    told = await acknowledge_failure(error, args)
    runtime: Runtime = args.context[RUNTIME_KEY]
    actor = actor_of(args.context.user_id or "unknown")
    surface = None if told else surface_of(args)
    runtime.after_ack(_follow_up(runtime, error, surface, actor=actor, audited=audited))
    response = args.ack.response
    assert response is not None  # acknowledge_failure acked
    return response


async def _follow_up(
    runtime: Runtime,
    error: DomainError,
    surface: Surface | None,
    *,
    actor: str,
    audited: str | None,
) -> None:
    async with runtime.slot(calls_out=False):
        if audited is not None:
            try:
                await audit.record_refusal(runtime.deps(), actor=actor, attempted=audited)
            except Exception:
                log.exception("could not audit a refused request by %s: %s", actor, audited)
        if surface is not None:
            await report(error, surface)
