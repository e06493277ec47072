"""Stores a confirmation would leave unconnected must be named by the customer first."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConsentRequest, Store

from ._queries import listing
from ._requests import consent_view
from .dependencies import Dependencies
from .errors import StoresLeftUnconnected


async def check_left_unconnected(
    deps: Dependencies,
    session: AsyncSession,
    request: ConsentRequest,
    left: list[Store],
    acknowledged: Collection[str],
) -> None:
    """Refuse, naming them, unless every store left unconnected was acknowledged."""
    named = {code.casefold() for code in acknowledged}
    if all(store.code.casefold() in named for store in left):
        return
    view = await consent_view(deps, session, request)
    left_ids = {store.id for store in left}
    views = tuple(store for store in view.stores if store.id in left_ids)
    them = "it" if len(views) == 1 else "them"
    raise StoresLeftUnconnected(
        f"{len(views)} of {len(view.stores)} stores would not be connected: "
        f"{listing([f'{store.name} ({store.code})' for store in views])}. "
        f"This link can be used only once, so connecting {them} later needs a new link. "
        f"Choose an organisation for {them}, or tick the box to leave {them} unconnected, "
        "then press Confirm Selection again.",
        stores=views,
    )
