"""Revoking a grant at Xero once no organisation of it is in use any more."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select

from storage.models import ConnectionStatus, GrantStatus, XeroConnection, XeroGrant

from ._leases import LEASED, Leased, leased_grant, release_lease, take_lease, waiting_for_lease
from ._session import audit, transaction
from .dependencies import Dependencies
from .errors import ExternalServiceError, XeroGrantRevoked

log = logging.getLogger(__name__)


async def revoke_if_unused(
    deps: Dependencies, grant_id: int, *, except_connection_id: int | None, customer_id: int | None
) -> bool:
    """Revoke the grant at Xero if no other organisation of it is active.

    Claimed with the grant's lease, so no refresh runs meanwhile and the token revoked
    is the newest; Xero is called outside any transaction. A consent by the same Xero
    user that stored new tokens meanwhile keeps the grant active.
    """
    lock = deps.grant_locks.setdefault(grant_id, asyncio.Lock())
    async with lock:
        claim = await waiting_for_lease(
            deps, lambda: _claim_revoke(deps, grant_id, except_connection_id)
        )
        if claim is None:
            return False
        lease, stored = claim
        vault = deps.vault
        failure = ""
        try:
            await deps.xero.revoke(refresh_token=vault.decrypt(stored))
        except XeroGrantRevoked:
            pass  # Xero had already dropped it: nothing left to revoke.
        except ExternalServiceError as error:
            failure = error.message
        except BaseException:
            await release_lease(deps, grant_id, lease)
            raise
        async with transaction(deps) as session:
            grant = await leased_grant(deps, session, grant_id, lease)
            if grant is None:
                return False
            if failure:
                audit(
                    deps,
                    session,
                    actor="system",
                    action="grant.revoke_failed",
                    customer_id=customer_id,
                    xero_user=grant.user_email or grant.xero_user_id,
                    error=failure,
                )
                log.warning("could not revoke Xero grant %s: %s", grant_id, failure)
                return False
            if grant.refresh_token_encrypted != stored:
                return False
            grant.status = GrantStatus.REVOKED
            return True


async def _claim_revoke(
    deps: Dependencies, grant_id: int, except_connection_id: int | None
) -> tuple[str, str] | Leased | None:
    async with transaction(deps) as session:
        grant = await session.scalar(
            select(XeroGrant).where(XeroGrant.id == grant_id).with_for_update()
        )
        if grant is None or grant.status != GrantStatus.ACTIVE:
            return None
        others = await session.scalar(
            select(func.count())
            .select_from(XeroConnection)
            .where(
                XeroConnection.grant_id == grant_id,
                XeroConnection.id != (except_connection_id or 0),
                XeroConnection.status == ConnectionStatus.ACTIVE,
            )
        )
        if others:
            return None
        lease = take_lease(deps, grant)
        if lease is None:
            return LEASED
        return lease, grant.refresh_token_encrypted
