"""What a consent allowed at Xero but no store uses: removed again, and audited."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ConnectionStatus,
    ConsentRequest,
    StoreLink,
    XeroConnection,
    XeroGrant,
)

from . import grants
from ._session import audit, transaction
from .dependencies import Dependencies
from .errors import (
    ConsentLinkUnusable,
    ExternalServiceError,
    XeroConnectionGone,
    XeroGrantRevoked,
)
from .ports import TokenSet, XeroTenantConnection
from .results import ConsentAttempt

log = logging.getLogger(__name__)


async def remove_unused_connections(
    deps: Dependencies, *, consent_request_id: int, actor: str
) -> None:
    """Remove at Xero this consent's organisations that no store (of any customer) uses.

    Runs after the choice is committed and never undoes it: a failure at Xero is
    audited and the connection stays active here, so confirming again retries it.
    """
    async with transaction(deps, read_only=True) as session:
        request = await session.get(ConsentRequest, consent_request_id)
        assert request is not None
        unused = await _unused_connections(deps, session, request)
        plan = [(c.id, c.grant_id, c.xero_connection_id, c.tenant_name) for c in unused]
        customer_id = request.customer_id
    for connection_id, grant_id, xero_connection_id, tenant_name in plan:
        error = ""
        try:
            access_token = await grants.access_token(deps, grant_id=grant_id)
            await deps.xero.delete_connection(
                access_token=access_token, connection_id=xero_connection_id
            )
        except XeroConnectionGone:
            pass  # Xero no longer has it: nothing left to remove.
        except (XeroGrantRevoked, ExternalServiceError) as failure:
            error = failure.message
            log.warning("could not remove unused Xero connection %s: %s", connection_id, error)
        async with transaction(deps) as session:
            connection = await session.get(XeroConnection, connection_id)
            assert connection is not None
            if not error:
                connection.status = ConnectionStatus.DISCONNECTED
                connection.updated_at = deps.clock()
            audit(
                deps,
                session,
                actor=actor,
                action="organisation.remove_unused_failed"
                if error
                else "organisation.removed_unused",
                customer_id=customer_id,
                connection_id=connection_id,
                organisation=tenant_name,
                consent_request_id=consent_request_id,
                **_error_detail(error),
            )


async def _unused_connections(
    deps: Dependencies, session: AsyncSession, request: ConsentRequest
) -> list[XeroConnection]:
    if request.grant_id is None or request.auth_event_id is None:
        return []
    in_use = select(StoreLink.id).where(
        StoreLink.connection_id == XeroConnection.id, StoreLink.active.is_(True)
    )
    return list(
        await session.scalars(
            select(XeroConnection).where(
                XeroConnection.grant_id == request.grant_id,
                XeroConnection.auth_event_id == request.auth_event_id,
                XeroConnection.status == ConnectionStatus.ACTIVE,
                ~in_use.exists(),
            )
        )
    )


async def refuse_late_consent(
    deps: Dependencies,
    *,
    attempt: ConsentAttempt,
    unusable: ConsentLinkUnusable,
    code: str,
    tokens: TokenSet | None,
    actor: str,
) -> NoReturn:
    """A consent came back on a link no longer usable: undo it at Xero, then say so.

    Xero created the connections when the customer pressed Allow, before the bot knew
    the link had expired (or was withdrawn or used meanwhile); kept, they would be
    connections nobody here knows about. So the code is exchanged only to remove them.
    """
    error = ""
    if tokens is None:
        try:
            tokens = await deps.xero.exchange_code(code=code, code_verifier=attempt.code_verifier)
        except ExternalServiceError as failure:
            error = failure.message
    removed: list[str] = []
    if tokens is not None:
        removed, error = await discard_at_xero(deps, tokens, attempt.consent_request_id)
    async with transaction(deps) as session:
        request = await session.get(ConsentRequest, attempt.consent_request_id)
        audit(
            deps,
            session,
            actor=actor,
            action="consent.discarded",
            customer_id=request.customer_id if request else None,
            consent_request_id=attempt.consent_request_id,
            reason=unusable.reason,
            removed_at_xero=removed,
            **_error_detail(error),
        )
    before = _TOO_LATE.get(unusable.reason, "This link can no longer be used")
    if error:
        outcome = (
            "nothing was connected, but the access you allowed at Xero could not be "
            "removed: in Xero, open Settings, Connected apps, and remove this app, or tell "
            "your helpdesk contact."
        )
    elif removed:
        outcome = (
            f"nothing was connected, and the access you allowed at Xero to "
            f"{', '.join(removed)} has been removed again."
        )
    else:
        outcome = "nothing was connected and nothing changed at Xero."
    raise ConsentLinkUnusable(
        f"{before}, so {outcome} Ask your helpdesk contact for a new link.",
        reason=unusable.reason,
    ) from unusable


async def discard_at_xero(
    deps: Dependencies, tokens: TokenSet, consent_request_id: int
) -> tuple[list[str], str]:
    """Remove this consent's connections except those the bot holds as active.

    Re-allowing an organisation that stores already use keeps its connection at Xero
    (the same one), so that one stays. Returns (organisations removed, error or "").
    """
    removed: list[str] = []
    try:
        if not tokens.auth_event_id:
            raise ExternalServiceError(
                "Xero did not say which organisations were authorised.", retryable=False
            )
        tenants = await deps.xero.connections(
            access_token=tokens.access_token, auth_event_id=tokens.auth_event_id
        )
        async with transaction(deps, read_only=True) as session:
            known = await _known_tenants(deps, session, tokens.xero_user_id, tenants)
        for tenant in tenants:
            if tenant.tenant_id in known:
                continue
            with contextlib.suppress(XeroConnectionGone):  # already gone at Xero
                await deps.xero.delete_connection(
                    access_token=tokens.access_token, connection_id=tenant.id
                )
            removed.append(tenant.tenant_name)
    except (XeroGrantRevoked, ExternalServiceError) as failure:
        log.warning("could not undo consent of link #%s at Xero: %s", consent_request_id,
                    failure.message)  # fmt: skip
        return removed, failure.message
    return removed, ""


async def _known_tenants(
    deps: Dependencies,
    session: AsyncSession,
    xero_user_id: str,
    tenants: list[XeroTenantConnection],
) -> set[str]:
    rows = await session.scalars(
        select(XeroConnection.tenant_id)
        .join(XeroConnection.grant)
        .where(
            XeroGrant.xero_user_id == xero_user_id,
            XeroConnection.tenant_id.in_([tenant.tenant_id for tenant in tenants]),
            XeroConnection.status == ConnectionStatus.ACTIVE,
        )
    )
    return set(rows)


_TOO_LATE = {
    "expired": "This link expired before Xero sent you back",
    "revoked": "This link was withdrawn while you were at Xero",
    "completed": "This link had already been used to connect your stores",
}


def _error_detail(error: str) -> dict[str, Any]:
    """An audit event names an error only when there was one."""
    return {"error": error} if error else {}
