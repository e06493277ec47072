"""Consent links: issuing and revoking them, and what happens when a customer uses one."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.domain.errors import ConsentLinkUnusable, InvalidRequest, NotFound
from storage.models import (
    ConnectionStatus,
    ConsentRequest,
    ConsentStatus,
    Customer,
    Store,
    StoreStatus,
    XeroConnection,
)

from .base import (
    OPEN_CONSENT_STATUSES,
    WAITING_FOR_CONSENT,
    ServiceBase,
    is_are,
    listing,
    token_hash,
)
from .results import ConsentLink, ConsentView, OrganisationOption, ReplacedLink

TOKEN_BYTES = 32
ASK_FOR_NEW_LINK = "Ask your helpdesk contact for a new link."


class ConsentOperations(ServiceBase):
    async def issue_consent_link(
        self,
        *,
        customer_id: int,
        store_codes: Sequence[str] | None,
        actor: str,
        slack_channel_id: str | None = None,
        slack_message_ts: str | None = None,
        lifetime: timedelta | None = None,
    ) -> ConsentLink:
        """Create the link a customer opens to connect these stores (None: every store).

        A store is in at most one open link: an older open link that covers any of these
        stores is revoked, and the result says which.
        """
        lifetime = lifetime or self._deps.consent_link_lifetime
        if lifetime <= timedelta(0):
            raise InvalidRequest("A consent link must live for a positive time.")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with self._transaction() as session:
            customer = await self._customer(session, customer_id, lock=True)
            stores = await self._chosen_stores(session, customer, store_codes)
            replaced = await self._revoke_overlapping(session, customer, stores, actor=actor)
            request = ConsentRequest(
                token_hash=token_hash(token),
                customer_id=customer.id,
                issued_by=actor,
                slack_channel_id=slack_channel_id,
                slack_message_ts=slack_message_ts,
                status=ConsentStatus.ISSUED,
                created_at=self._now(),
                expires_at=self._now() + lifetime,
                stores=stores,
            )
            session.add(request)
            for store in stores:
                if store.status not in (StoreStatus.CONNECTED, StoreStatus.NEEDS_RECONNECT):
                    self._set_status(store, StoreStatus.CONSENT_SENT)
            await session.flush()
            self._audit(
                session,
                actor=actor,
                action="consent.issued",
                customer_id=customer.id,
                consent_request_id=request.id,
                stores=[store.code for store in stores],
                expires_at=request.expires_at.isoformat(),
            )
            return ConsentLink(
                consent_request_id=request.id,
                customer_id=customer.id,
                customer_name=customer.name,
                url=f"{self._deps.public_base_url}/connect/{token}",
                expires_at=request.expires_at,
                store_codes=tuple(store.code for store in stores),
                replaced=replaced,
            )

    async def revoke_consent_link(self, *, consent_request_id: int, actor: str) -> ConsentView:
        """Make a link unusable, e.g. when it was sent to the wrong person."""
        async with self._transaction() as session:
            request = await self._request_by_id(session, consent_request_id, lock=True)
            if request.status not in OPEN_CONSENT_STATUSES:
                raise InvalidRequest(
                    f"Link #{request.id} is already {request.status.value}; nothing to revoke."
                )
            self._close(request, ConsentStatus.REVOKED, actor=actor)
            self._audit(
                session,
                actor=actor,
                action="consent.revoked",
                customer_id=request.customer_id,
                consent_request_id=request.id,
            )
            return await self._consent_view(session, request)

    async def open_consent(self, *, token: str) -> ConsentView:
        """What a link stands for, for its pages. Changes nothing: scanners fetch links too."""
        async with self._transaction(read_only=True) as session:
            request = await self._usable_request(session, token)
            return await self._consent_view(session, request)

    async def consent_for_request(self, *, consent_request_id: int) -> ConsentView:
        async with self._transaction(read_only=True) as session:
            return await self._consent_view(
                session, await self._request_by_id(session, consent_request_id)
            )

    async def _record_outcome(
        self, *, token: str, outcome: ConsentStatus, actor: str, reason: str = ""
    ) -> ConsentView:
        """Audit a cancel or a failure at Xero without closing the link, so it can be retried."""
        if outcome not in (ConsentStatus.CANCELLED, ConsentStatus.FAILED):
            raise ValueError(f"not an outcome: {outcome}")
        async with self._transaction() as session:
            request = await self._usable_request(session, token)
            self._audit(
                session,
                actor=actor,
                action=f"consent.{outcome.value}",
                customer_id=request.customer_id,
                consent_request_id=request.id,
                reason=reason,
            )
            return await self._consent_view(session, request)

    async def _usable_request(
        self, session: AsyncSession, token: str, *, lock: bool = False
    ) -> ConsentRequest:
        """The open link of `token`; with `lock`, its row is locked (PostgreSQL) and read
        afresh, for an operation that changes the link to decide from its current state."""
        digest = token_hash(token)
        query = (
            select(ConsentRequest)
            .where(ConsentRequest.token_hash == digest)
            .options(selectinload(ConsentRequest.stores), selectinload(ConsentRequest.customer))
        )
        if lock:
            query = query.with_for_update(of=ConsentRequest).execution_options(
                populate_existing=True
            )
        request = await session.scalar(query)
        if request is None or not hmac.compare_digest(request.token_hash, digest):
            raise ConsentLinkUnusable(
                f"This link is not valid. {ASK_FOR_NEW_LINK}", reason="unknown"
            )
        if request.status == ConsentStatus.COMPLETED:
            raise ConsentLinkUnusable(
                "This link has already been used to connect your stores. "
                f"To change the connection, {ASK_FOR_NEW_LINK.lower()}",
                reason="completed",
            )
        if request.status == ConsentStatus.REVOKED:
            raise ConsentLinkUnusable(
                f"This link has been withdrawn. {ASK_FOR_NEW_LINK}", reason="revoked"
            )
        if request.expires_at <= self._now():
            raise ConsentLinkUnusable(
                f"This link has expired. {ASK_FOR_NEW_LINK}", reason="expired"
            )
        return request

    async def _request_by_id(
        self, session: AsyncSession, consent_request_id: int, *, lock: bool = False
    ) -> ConsentRequest:
        request = await session.get(
            ConsentRequest,
            consent_request_id,
            options=[selectinload(ConsentRequest.stores), selectinload(ConsentRequest.customer)],
            with_for_update={"of": ConsentRequest} if lock else None,
            populate_existing=lock,
        )
        if request is None:
            raise NotFound(f"There is no consent link #{consent_request_id}.")
        return request

    async def _chosen_stores(
        self, session: AsyncSession, customer: Customer, store_codes: Sequence[str] | None
    ) -> list[Store]:
        stores = await self._stores(session, customer.id)
        if store_codes is None:
            chosen = [store for store in stores if store.active_in_cloudpos]
            if not chosen:
                raise InvalidRequest(
                    f"{customer.name} has no active Cloud POS stores. Refresh the stores first."
                )
            return chosen
        wanted = list(dict.fromkeys(code.strip() for code in store_codes if code.strip()))
        if not wanted:
            raise InvalidRequest("Choose at least one store for the link.")
        by_code = {store.code.casefold(): store for store in stores}
        unknown = [code for code in wanted if code.casefold() not in by_code]
        if unknown:
            known = ", ".join(store.code for store in stores) or "none"
            raise NotFound(
                f"{listing(unknown)} {is_are(unknown)} not among the stores of {customer.name}. "
                f"Their stores are: {known}."
            )
        chosen = [by_code[code.casefold()] for code in wanted]
        closed = [store.code for store in chosen if not store.active_in_cloudpos]
        if closed:
            raise InvalidRequest(
                f"{listing(closed)} {is_are(closed)} not active in Cloud POS; leave "
                f"{'it' if len(closed) == 1 else 'them'} out, or refresh the stores if that is "
                "out of date."
            )
        return chosen

    async def _revoke_overlapping(
        self, session: AsyncSession, customer: Customer, stores: list[Store], *, actor: str
    ) -> tuple[ReplacedLink, ...]:
        replaced = []
        for request in await self._overlapping_requests(session, customer, stores, lock=True):
            self._close(request, ConsentStatus.REVOKED, actor=actor)
            self._audit(
                session,
                actor=actor,
                action="consent.replaced",
                customer_id=customer.id,
                consent_request_id=request.id,
            )
            replaced.append(ReplacedLink(request.id, tuple(store.code for store in request.stores)))
        return tuple(replaced)

    async def _overlapping_requests(
        self, session: AsyncSession, customer: Customer, stores: list[Store], *, lock: bool
    ) -> list[ConsentRequest]:
        """The customer's open links that cover any of `stores`, oldest first."""
        query = (
            select(ConsentRequest)
            .where(
                ConsentRequest.customer_id == customer.id,
                ConsentRequest.status.in_(OPEN_CONSENT_STATUSES),
                ConsentRequest.expires_at > self._now(),
            )
            .order_by(ConsentRequest.id)
            .options(selectinload(ConsentRequest.stores))
        )
        if lock:
            query = query.with_for_update(of=ConsentRequest).execution_options(
                populate_existing=True
            )
        store_ids = {store.id for store in stores}
        return [
            request
            for request in await session.scalars(query)
            if not store_ids.isdisjoint(store.id for store in request.stores)
        ]

    def _close(self, request: ConsentRequest, status: ConsentStatus, *, actor: str) -> None:
        request.status = status
        request.finished_at = self._now()
        request.finished_by = actor
        if status != ConsentStatus.COMPLETED:
            for store in request.stores:
                if store.status in WAITING_FOR_CONSENT:
                    self._set_status(store, StoreStatus.NOT_CONNECTED)

    def _set_status(self, store: Store, status: StoreStatus) -> None:
        if store.status != status:
            store.status = status
            store.status_changed_at = self._now()

    async def _consent_view(self, session: AsyncSession, request: ConsentRequest) -> ConsentView:
        snapshot = await self._snapshot(session, request.customer_id)
        by_id = {store.id: store for store in snapshot.stores}
        organisations: tuple[OrganisationOption, ...] = ()
        if request.grant_id is not None:
            connections = await session.scalars(
                select(XeroConnection)
                .where(
                    XeroConnection.grant_id == request.grant_id,
                    XeroConnection.auth_event_id == request.auth_event_id,
                )
                .order_by(XeroConnection.tenant_name)
            )
            organisations = tuple(
                self._option(connection)
                for connection in connections
                if connection.status == ConnectionStatus.ACTIVE
            )
        return ConsentView(
            consent_request_id=request.id,
            customer_id=request.customer_id,
            customer_name=request.customer.name,
            status=request.status.value,
            expires_at=request.expires_at,
            stores=tuple(snapshot.view(by_id[store.id]) for store in request.stores),
            organisations=organisations,
            issued_by=request.issued_by,
            slack_channel_id=request.slack_channel_id,
            slack_message_ts=request.slack_message_ts,
            slack_choice_ts=request.slack_choice_ts,
            finished_at=request.finished_at,
            finished_by=request.finished_by,
            usable=request.status in OPEN_CONSENT_STATUSES and request.expires_at > self._now(),
        )

    def _option(self, connection: XeroConnection) -> OrganisationOption:
        assessment = self._deps.plans.assess(
            plan_class=connection.plan_class,
            edition=connection.edition,
            is_demo_company=connection.is_demo_company,
            tenant_type=connection.tenant_type,
        )
        return OrganisationOption(
            connection_id=connection.id,
            tenant_name=connection.tenant_name,
            plan_label=assessment.label,
            eligible=assessment.eligible,
            reason=assessment.reason,
        )
