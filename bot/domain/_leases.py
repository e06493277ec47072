"""Leases on a grant's row, so one replica at a time refreshes or revokes it at Xero."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import XeroGrant

from ._session import transaction
from .dependencies import Dependencies
from .errors import ExternalServiceError

LEASE = timedelta(minutes=2)


LEASE_WAIT = LEASE + timedelta(seconds=10)


LEASE_POLL = 0.05


class Leased:
    """What a claim returns while another worker holds the grant's lease."""


LEASED = Leased()


_C = TypeVar("_C")


async def waiting_for_lease(deps: Dependencies, claim: Callable[[], Awaitable[_C | Leased]]) -> _C:
    """`claim()` again until it no longer finds the grant's lease taken."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LEASE_WAIT.total_seconds()
    while True:
        result = await claim()
        if not isinstance(result, Leased):
            return result
        if loop.time() >= deadline:
            raise ExternalServiceError(
                "Xero is slow to answer about this connection's authorisation. Try again "
                "in a minute.",
                retryable=True,
            )
        await asyncio.sleep(LEASE_POLL)


def take_lease(deps: Dependencies, grant: XeroGrant) -> str | None:
    """A new lease on the grant (its row locked by the caller), or None while another
    worker holds one that has not run out."""
    now = deps.clock()
    if grant.refresh_lease is not None and (
        grant.refresh_lease_until is None or grant.refresh_lease_until > now
    ):
        return None
    grant.refresh_lease = uuid.uuid4().hex
    grant.refresh_lease_until = now + LEASE
    return grant.refresh_lease


async def leased_grant(
    deps: Dependencies, session: AsyncSession, grant_id: int, lease: str
) -> XeroGrant | None:
    """The grant, its lease released, if `lease` still holds it."""
    grant = await session.scalar(
        select(XeroGrant).where(XeroGrant.id == grant_id).with_for_update()
    )
    if grant is None or grant.refresh_lease != lease:
        return None
    grant.refresh_lease = None
    grant.refresh_lease_until = None
    return grant


async def release_lease(deps: Dependencies, grant_id: int, lease: str) -> None:
    """Give the lease back after a failure, so others need not wait for it to run out."""
    with contextlib.suppress(Exception):
        async with transaction(deps) as session:
            await leased_grant(deps, session, grant_id, lease)
