"""Recording a consent Xero authorised: the grant, its organisations, stores working again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ConnectionStatus,
    ConsentStatus,
    GrantStatus,
    Store,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

from ._leftovers import discard_at_xero
from ._queries import linked_stores_of_grant
from ._requests import consent_view, record_outcome, usable_request
from ._session import audit, notify, transaction
from ._store_status import set_store_status
from .dependencies import Dependencies
from .errors import (
    ExternalServiceError,
    XeroConnectionGone,
)
from .notify import ConsentEventKind
from .ports import Organisation, TokenSet, XeroTenantConnection
from .results import ConsentAttempt, ConsentView

log = logging.getLogger(__name__)


async def abandon_consent(
    deps: Dependencies, attempt: ConsentAttempt, tokens: TokenSet, failure: Exception, actor: str
) -> NoReturn:
    """The code was exchanged but the consent could not be stored: nothing may stay at
    Xero that the bot does not know of, and the agent hears of it."""
    log.error(  # the class only: the statement's parameters hold tokens, even if encrypted
        "could not store consent of link #%s: %s",
        attempt.consent_request_id,
        type(failure).__name__,
    )
    _, error = await discard_at_xero(deps, tokens, attempt.consent_request_id)
    undone = (
        "what it allowed at Xero could not be removed: remove the app in Xero's Connected apps"
        if error
        else "what it allowed at Xero was removed again"
    )
    reason = f"the bot could not store the consent, so nothing was connected and {undone}"
    view = await record_outcome(
        deps, token=attempt.link_token, outcome=ConsentStatus.FAILED, actor=actor, reason=reason
    )
    await notify(deps, ConsentEventKind.FAILED, view, f"{reason}.")
    raise ExternalServiceError(
        f"We could not save the connection, so nothing was connected ({undone}). "
        "Press Connect to Xero again; if it happens again, tell your helpdesk contact.",
        retryable=False,
    ) from None


async def read_organisations(
    deps: Dependencies, access_token: str, tenants: list[XeroTenantConnection]
) -> dict[str, Organisation | None]:
    async def read(tenant: XeroTenantConnection) -> Organisation | None:
        if tenant.tenant_type.upper() != "ORGANISATION":
            return None
        try:
            return await deps.xero.organisation(
                access_token=access_token, tenant_id=tenant.tenant_id
            )
        except XeroConnectionGone:
            return None

    found = await asyncio.gather(*(read(tenant) for tenant in tenants))
    return {tenant.tenant_id: org for tenant, org in zip(tenants, found, strict=True)}


async def record_consent(
    deps: Dependencies,
    token: str,
    tokens: TokenSet,
    tenants: list[XeroTenantConnection],
    organisations: Mapping[str, Organisation | None],
    actor: str,
) -> ConsentView:
    vault = deps.vault
    async with transaction(deps) as session:
        request = await usable_request(deps, session, token, lock=True)
        grant = await session.scalar(
            select(XeroGrant).where(XeroGrant.xero_user_id == tokens.xero_user_id)
        )
        if grant is None:
            grant = XeroGrant(xero_user_id=tokens.xero_user_id, created_at=deps.clock())
            session.add(grant)
        grant.user_name = tokens.user_name or grant.user_name or ""
        grant.user_email = tokens.user_email or grant.user_email or ""
        grant.access_token_encrypted = vault.encrypt(tokens.access_token)
        grant.refresh_token_encrypted = vault.encrypt(tokens.refresh_token)
        grant.access_token_expires_at = tokens.expires_at
        grant.scopes = " ".join(tokens.scopes)
        grant.status = GrantStatus.ACTIVE
        grant.refreshed_at = deps.clock()
        await session.flush()

        for tenant in tenants:
            await _upsert_connection(deps, session, grant, tenant, organisations[tenant.tenant_id])
        await _restore_reconnected_stores(
            deps, session, grant, [tenant.tenant_id for tenant in tenants]
        )
        request.status = ConsentStatus.AUTHORISED
        request.grant_id = grant.id
        request.auth_event_id = tokens.auth_event_id
        for store in request.stores:
            if store.status == StoreStatus.CONSENT_SENT:
                set_store_status(deps, store, StoreStatus.AWAITING_CHOICE)
        audit(
            deps,
            session,
            actor=actor,
            action="consent.authorised",
            customer_id=request.customer_id,
            consent_request_id=request.id,
            xero_user=grant.user_email or grant.xero_user_id,
            organisations=[tenant.tenant_name for tenant in tenants],
        )
        await session.flush()
        return await consent_view(deps, session, request)


async def _upsert_connection(
    deps: Dependencies,
    session: AsyncSession,
    grant: XeroGrant,
    tenant: XeroTenantConnection,
    organisation: Organisation | None,
) -> None:
    connection = await session.scalar(
        select(XeroConnection).where(
            XeroConnection.grant_id == grant.id, XeroConnection.tenant_id == tenant.tenant_id
        )
    )
    if connection is None:
        connection = XeroConnection(grant_id=grant.id, tenant_id=tenant.tenant_id)
        session.add(connection)
    connection.xero_connection_id = tenant.id
    connection.tenant_name = organisation.name if organisation else tenant.tenant_name
    connection.tenant_type = tenant.tenant_type
    connection.auth_event_id = tenant.auth_event_id
    connection.status = ConnectionStatus.ACTIVE
    connection.gone_since = None
    connection.updated_at = deps.clock()
    if organisation is not None:
        connection.plan_class = organisation.plan_class
        connection.edition = organisation.edition
        connection.is_demo_company = organisation.is_demo_company
    else:
        connection.plan_class = connection.plan_class or ""
        connection.edition = connection.edition or ""
        connection.is_demo_company = bool(connection.is_demo_company)


async def _restore_reconnected_stores(
    deps: Dependencies, session: AsyncSession, grant: XeroGrant, tenant_ids: list[str]
) -> None:
    """Stores waiting on this grant work again, if their organisation was just allowed."""
    stores = await session.scalars(
        linked_stores_of_grant(grant.id).where(
            Store.status == StoreStatus.NEEDS_RECONNECT,
            XeroConnection.tenant_id.in_(tenant_ids),
        )
    )
    for store in stores:
        set_store_status(deps, store, StoreStatus.CONNECTED)
