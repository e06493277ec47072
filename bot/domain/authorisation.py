"""The customer's trip to Xero and back: starting consent, the OAuth callback, cancelling."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import (
    Conflict,
    ConsentLinkUnusable,
    ExternalServiceError,
    XeroConnectionGone,
)
from bot.domain.notify import ConsentEventKind
from storage.models import (
    ConnectionStatus,
    ConsentStatus,
    GrantStatus,
    Store,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)

from .base import linked_stores_of_grant
from .callback import AUTHORISED, CANCELLED, CallbackStateOperations, outcome_of, raise_settled
from .leftovers import LeftoverOperations
from .ports import Organisation, TokenSet, XeroTenantConnection
from .results import CallbackOutcome, ConsentAttempt, ConsentView

log = logging.getLogger(__name__)


class AuthorisationOperations(LeftoverOperations, CallbackStateOperations):
    async def complete_consent(
        self, *, attempt: ConsentAttempt, code: str, actor: str = "customer"
    ) -> ConsentView:
        """Exchange Xero's code, then store the grant and the organisations this consent allowed.

        The organisations are those of the access token's `authentication_event_id`, never
        "the first connection": a Xero user may have connected others before. A failure at
        Xero leaves the link usable and is reported back. A link no longer usable gets
        nothing, and what the consent created at Xero is removed again. A callback that
        lost the claim on the state shows the winner's outcome and sends nothing to Xero.
        """
        if attempt.settled is not None:
            raise_settled(attempt.settled)
            return await self.consent_for_request(consent_request_id=attempt.consent_request_id)
        try:
            view = await self._complete_consent(attempt=attempt, code=code, actor=actor)
        except Exception as error:
            await self._settle(attempt, outcome_of(error))
            raise
        await self._settle(attempt, CallbackOutcome(AUTHORISED))
        return view

    async def _complete_consent(
        self, *, attempt: ConsentAttempt, code: str, actor: str
    ) -> ConsentView:
        try:
            async with self._transaction(read_only=True) as session:
                await self._usable_request(session, attempt.link_token)
        except ConsentLinkUnusable as unusable:
            await self._refuse_late_consent(
                attempt=attempt, unusable=unusable, code=code, tokens=None, actor=actor
            )
        try:
            tokens = await self._deps.xero.exchange_code(
                code=code, code_verifier=attempt.code_verifier
            )
            if not tokens.auth_event_id:
                raise ExternalServiceError(
                    "Xero did not say which organisations were just authorised. "
                    "Press Connect to Xero again.",
                    retryable=True,
                )
            tenants = await self._deps.xero.connections(
                access_token=tokens.access_token, auth_event_id=tokens.auth_event_id
            )
            organisations = await self._organisations(tokens.access_token, tenants)
        except ExternalServiceError as error:
            view = await self._record_outcome(
                token=attempt.link_token,
                outcome=ConsentStatus.FAILED,
                actor=actor,
                reason=error.message,
            )
            await self._notify(ConsentEventKind.FAILED, view, error.message)
            raise
        for try_number in (1, 2):
            try:
                view = await self._record_consent(
                    attempt.link_token, tokens, tenants, organisations, actor
                )
                break
            except ConsentLinkUnusable as unusable:
                await self._refuse_late_consent(
                    attempt=attempt, unusable=unusable, code="", tokens=tokens, actor=actor
                )
            except IntegrityError:
                if try_number == 2:
                    raise Conflict(
                        "This consent was recorded twice at the same moment; reload the page."
                    ) from None
            except SQLAlchemyError as failure:
                await self._abandon_consent(attempt, tokens, failure, actor)
        await self._notify(ConsentEventKind.AUTHORISED, view)
        return view

    async def _abandon_consent(
        self, attempt: ConsentAttempt, tokens: TokenSet, failure: Exception, actor: str
    ) -> NoReturn:
        """The code was exchanged but the consent could not be stored: nothing may stay at
        Xero that the bot does not know of, and the agent hears of it."""
        log.error(  # the class only: the statement's parameters hold tokens, even if encrypted
            "could not store consent of link #%s: %s",
            attempt.consent_request_id,
            type(failure).__name__,
        )
        _, error = await self._discard_at_xero(tokens, attempt.consent_request_id)
        undone = (
            "what it allowed at Xero could not be removed: remove the app in Xero's Connected apps"
            if error
            else "what it allowed at Xero was removed again"
        )
        reason = f"the bot could not store the consent, so nothing was connected and {undone}"
        view = await self._record_outcome(
            token=attempt.link_token, outcome=ConsentStatus.FAILED, actor=actor, reason=reason
        )
        await self._notify(ConsentEventKind.FAILED, view, f"{reason}.")
        raise ExternalServiceError(
            f"We could not save the connection, so nothing was connected ({undone}). "
            "Press Connect to Xero again; if it happens again, tell your helpdesk contact.",
            retryable=False,
        ) from None

    async def cancel_consent(self, *, attempt: ConsentAttempt, reason: str) -> ConsentView:
        """The customer pressed Cancel at Xero: noted and reported; the link stays usable."""
        if attempt.settled is not None:
            return await self.consent_for_request(consent_request_id=attempt.consent_request_id)
        view = await self._record_outcome(
            token=attempt.link_token,
            outcome=ConsentStatus.CANCELLED,
            actor="customer",
            reason=reason,
        )
        await self._settle(attempt, CallbackOutcome(CANCELLED))
        await self._notify(ConsentEventKind.CANCELLED, view, "the customer cancelled at Xero")
        return view

    async def _organisations(
        self, access_token: str, tenants: list[XeroTenantConnection]
    ) -> dict[str, Organisation | None]:
        async def read(tenant: XeroTenantConnection) -> Organisation | None:
            if tenant.tenant_type.upper() != "ORGANISATION":
                return None
            try:
                return await self._deps.xero.organisation(
                    access_token=access_token, tenant_id=tenant.tenant_id
                )
            except XeroConnectionGone:
                return None

        found = await asyncio.gather(*(read(tenant) for tenant in tenants))
        return {tenant.tenant_id: org for tenant, org in zip(tenants, found, strict=True)}

    async def _record_consent(
        self,
        token: str,
        tokens: TokenSet,
        tenants: list[XeroTenantConnection],
        organisations: Mapping[str, Organisation | None],
        actor: str,
    ) -> ConsentView:
        vault = self._deps.vault
        async with self._transaction() as session:
            request = await self._usable_request(session, token, lock=True)
            grant = await session.scalar(
                select(XeroGrant).where(XeroGrant.xero_user_id == tokens.xero_user_id)
            )
            if grant is None:
                grant = XeroGrant(xero_user_id=tokens.xero_user_id, created_at=self._now())
                session.add(grant)
            grant.user_name = tokens.user_name or grant.user_name or ""
            grant.user_email = tokens.user_email or grant.user_email or ""
            grant.access_token_encrypted = vault.encrypt(tokens.access_token)
            grant.refresh_token_encrypted = vault.encrypt(tokens.refresh_token)
            grant.access_token_expires_at = tokens.expires_at
            grant.scopes = " ".join(tokens.scopes)
            grant.status = GrantStatus.ACTIVE
            grant.refreshed_at = self._now()
            await session.flush()

            for tenant in tenants:
                await self._upsert_connection(
                    session, grant, tenant, organisations[tenant.tenant_id]
                )
            await self._restore_reconnected_stores(
                session, grant, [tenant.tenant_id for tenant in tenants]
            )
            request.status = ConsentStatus.AUTHORISED
            request.grant_id = grant.id
            request.auth_event_id = tokens.auth_event_id
            for store in request.stores:
                if store.status == StoreStatus.CONSENT_SENT:
                    self._set_status(store, StoreStatus.AWAITING_CHOICE)
            self._audit(
                session,
                actor=actor,
                action="consent.authorised",
                customer_id=request.customer_id,
                consent_request_id=request.id,
                xero_user=grant.user_email or grant.xero_user_id,
                organisations=[tenant.tenant_name for tenant in tenants],
            )
            await session.flush()
            return await self._consent_view(session, request)

    async def _upsert_connection(
        self,
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
        connection.updated_at = self._now()
        if organisation is not None:
            connection.plan_class = organisation.plan_class
            connection.edition = organisation.edition
            connection.is_demo_company = organisation.is_demo_company
        else:
            connection.plan_class = connection.plan_class or ""
            connection.edition = connection.edition or ""
            connection.is_demo_company = bool(connection.is_demo_company)

    async def _restore_reconnected_stores(
        self, session: AsyncSession, grant: XeroGrant, tenant_ids: list[str]
    ) -> None:
        """Stores waiting on this grant work again, if their organisation was just allowed."""
        stores = await session.scalars(
            linked_stores_of_grant(grant.id).where(
                Store.status == StoreStatus.NEEDS_RECONNECT,
                XeroConnection.tenant_id.in_(tenant_ids),
            )
        )
        for store in stores:
            self._set_status(store, StoreStatus.CONNECTED)
