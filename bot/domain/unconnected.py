"""Stores a consent link leaves unconnected: asked about before, told about after.

A link is used up once the choice is confirmed, so a store left on "Don't connect" by
oversight needs a new link from the helpdesk. The customer therefore names the stores they
leave before confirming, and the page afterwards says how many of the link's stores are
connected and which are not.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import InvalidRequest
from storage.models import ConsentRequest, Store, StoreStatus

from .base import listing
from .organisations import OrganisationOperations
from .results import StoreView, Summary


class StoresLeftUnconnected(InvalidRequest):
    """A confirmation would leave stores of the link unconnected and did not name them."""

    def __init__(self, message: str, *, stores: tuple[StoreView, ...]) -> None:
        super().__init__(message)
        self.stores = stores


@dataclass(frozen=True)
class LinkOutcome:
    """What a used link achieved: the customer's summary and the link's own stores."""

    summary: Summary
    stores: tuple[StoreView, ...]

    @property
    def connected(self) -> tuple[StoreView, ...]:
        return tuple(store for store in self.stores if store.status == StoreStatus.CONNECTED)

    @property
    def unconnected(self) -> tuple[StoreView, ...]:
        return tuple(store for store in self.stores if store.status != StoreStatus.CONNECTED)

    @property
    def headline(self) -> str:
        """The truth in a few words: never "connected" for stores that are not."""
        if not self.unconnected:
            return (
                "Your store is connected" if len(self.stores) == 1 else "Your stores are connected"
            )
        noun = "store" if len(self.stores) == 1 else "stores"
        return f"{len(self.connected)} of {len(self.stores)} {noun} connected"


class UnconnectedOperations(OrganisationOperations):
    async def _check_left_unconnected(
        self,
        session: AsyncSession,
        request: ConsentRequest,
        left: list[Store],
        acknowledged: Collection[str],
    ) -> None:
        """Refuse, naming them, unless every store left unconnected was acknowledged."""
        named = {code.casefold() for code in acknowledged}
        if all(store.code.casefold() in named for store in left):
            return
        view = await self._consent_view(session, request)
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
