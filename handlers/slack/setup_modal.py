"""Opening a store's posting set-up, and filling the modal once Xero has answered.

A trigger id lasts 3 seconds and reading an organisation's books can take longer, so the
modal opens at once with a loading state and `views.update` fills it. Whatever goes wrong
after it opened is said in the modal itself, where the agent is looking.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain import posting
from bot.domain.errors import MissingScopes
from bot.domain.posting_values import SetupForm
from handlers.slack.blocks.common import escape
from handlers.slack.blocks.modals import notice_view
from handlers.slack.blocks.posting import TITLE, loading_view, setup_view
from handlers.slack.errors import describe
from handlers.slack.runtime import Turn

Loaded = tuple[SetupForm, str | None]
"""The form to show and a note above it (e.g. what a copy filled), if any."""


async def open_setup(turn: Turn, *, trigger_id: str, customer_id: int, store_code: str) -> None:
    opened = await turn.client.views_open(trigger_id=trigger_id, view=loading_view(store_code))
    view: dict[str, Any] = opened["view"]

    async def load() -> Loaded:
        form = await posting.form(turn.deps, customer_id=customer_id, store_code=store_code)
        return form, None

    await fill(turn, view_id=view["id"], load=load)


async def fill(
    turn: Turn,
    *,
    view_id: str,
    load: Callable[[], Awaitable[Loaded]],
    revision: int = 0,
) -> None:
    """Show the form `load` reads in the modal `view_id`, or why it cannot be shown."""
    try:
        async with turn.runtime.slot(calls_out=True):
            form, note = await load()
    except Exception as error:
        await turn.client.views_update(view_id=view_id, view=cannot_open(error))
        return
    view = setup_view(form, errors_note=note, revision=revision)
    await turn.client.views_update(view_id=view_id, view=view)


def cannot_open(error: BaseException) -> dict[str, Any]:
    """Why the set-up cannot be shown; a consent that lacks a scope says how to renew it."""
    text = describe(error)
    if isinstance(error, MissingScopes):
        text += (
            f"\nPress *Send consent link* for `{escape(error.store_code)}` on the customer's "
            f"card, or run `/xero link <customer> {escape(error.store_code)}`."
        )
    return notice_view(TITLE, text)
