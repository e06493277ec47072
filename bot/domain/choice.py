"""The customer's choice of organisation per store, and the links it makes."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ConnectionStatus,
    ConsentRequest,
    ConsentStatus,
    Store,
    StoreStatus,
    XeroConnection,
)

from . import links
from ._leftovers import remove_unused_connections
from ._queries import is_are, listing
from ._readiness import keep_or_clear_setup
from ._requests import (
    close_request,
    organisation_option,
    request_by_id,
    usable_request,
)
from ._session import audit, notify, transaction
from ._store_links import active_links, link_store
from ._store_status import set_store_status
from ._unconnected import check_left_unconnected
from .dependencies import Dependencies
from .errors import (
    ConsentLinkUnusable,
    InvalidRequest,
)
from .notify import ConsentEventKind
from .results import Confirmation


async def confirm(
    deps: Dependencies,
    *,
    choices: Mapping[str, int],
    actor: str,
    token: str | None = None,
    consent_request_id: int | None = None,
    replace: bool = False,
    leave_unconnected: Collection[str] | None = None,
) -> Confirmation:
    """Link each chosen store (by code) to an organisation (connection id) of this consent.

    Repeating the same confirmation changes nothing. A store already linked to another
    organisation moves only when `replace` says so. With `leave_unconnected` given,
    every store of the link that would stay without an organisation must be in it,
    else `StoresLeftUnconnected` is raised and nothing changes (the customer pages ask
    first; an agent choosing store by store passes None). Afterwards the
    organisations this consent allowed that no store uses are removed at Xero.
    """
    if (token is None) == (consent_request_id is None):
        raise ValueError("give exactly one of token and consent_request_id")
    result = await _confirm(
        deps,
        choices=choices,
        actor=actor,
        token=token,
        consent_request_id=consent_request_id,
        replace=replace,
        leave_unconnected=leave_unconnected,
    )
    await remove_unused_connections(deps, consent_request_id=result.consent_request_id, actor=actor)
    if not result.unchanged:
        view = await links.get(deps, consent_request_id=result.consent_request_id)
        left = [store.code for store in view.stores if store.organisation_name is None]
        detail = f"left unconnected: {listing(left)}" if left else ""
        await notify(deps, ConsentEventKind.COMPLETED, view, detail)
    return result


async def _confirm(
    deps: Dependencies,
    *,
    choices: Mapping[str, int],
    actor: str,
    token: str | None,
    consent_request_id: int | None,
    replace: bool,
    leave_unconnected: Collection[str] | None,
) -> Confirmation:
    async with transaction(deps) as session:
        request = await _request_for_choice(deps, session, token, consent_request_id)
        stores = _stores_of_request(request, choices)
        connections = await _chosen_connections(deps, session, request, set(choices.values()))
        current = await active_links(session, [store.id for store in request.stores])
        wanted = {
            store.id: connections[_choices_by_code(choices)[store.code.casefold()]]
            for store in stores
        }
        if request.status == ConsentStatus.COMPLETED:
            if all(
                store.id in current and current[store.id].connection_id == wanted[store.id].id
                for store in stores
            ):
                return _confirmation(request, stores, wanted, unchanged=True)
            raise ConsentLinkUnusable(
                "This link has already been used to connect the stores. "
                "Ask your helpdesk contact for a new link to change them.",
                reason="completed",
            )
        chosen_ids = {store.id for store in stores}
        left = [
            store
            for store in request.stores
            if store.id not in chosen_ids and store.id not in current
        ]
        if leave_unconnected is not None:
            await check_left_unconnected(deps, session, request, left, leave_unconnected)
        for store in stores:
            link_store(
                deps,
                session,
                store,
                wanted[store.id],
                current.get(store.id),
                request=request,
                actor=actor,
                replace=replace,
            )
        await session.flush()
        for store in stores:
            await keep_or_clear_setup(
                deps, session, store, tenant_id=wanted[store.id].tenant_id, actor=actor
            )
            set_store_status(deps, store, StoreStatus.CONNECTED)
        close_request(deps, request, ConsentStatus.COMPLETED, actor=actor)
        for store in request.stores:
            if store.status in (StoreStatus.CONSENT_SENT, StoreStatus.AWAITING_CHOICE):
                set_store_status(deps, store, StoreStatus.NOT_CONNECTED)
        audit(
            deps,
            session,
            actor=actor,
            action="consent.completed",
            customer_id=request.customer_id,
            consent_request_id=request.id,
            choices={store.code: wanted[store.id].tenant_name for store in stores},
            left_unconnected=[store.code for store in left],
        )
        return _confirmation(request, stores, wanted, unchanged=False)


async def _request_for_choice(
    deps: Dependencies, session: AsyncSession, token: str | None, consent_request_id: int | None
) -> ConsentRequest:
    if token is not None:
        request = await usable_request(deps, session, token, lock=True, completed_too=True)
    else:
        assert consent_request_id is not None
        await session.scalar(
            select(ConsentRequest.id)
            .where(ConsentRequest.id == consent_request_id)
            .with_for_update()
        )
        request = await request_by_id(deps, session, consent_request_id)
        if request.status in (ConsentStatus.REVOKED,) or (
            request.status != ConsentStatus.COMPLETED and request.expires_at <= deps.clock()
        ):
            state = "revoked" if request.status == ConsentStatus.REVOKED else "expired"
            raise ConsentLinkUnusable(
                f"Link #{request.id} is {state}; issue a new one.", reason=state
            )
    if request.status == ConsentStatus.ISSUED or request.grant_id is None:
        raise InvalidRequest(
            "The customer has not connected to Xero with this link yet, so there is no "
            "organisation to choose from."
        )
    return request


def _stores_of_request(request: ConsentRequest, choices: Mapping[str, int]) -> list[Store]:
    if not choices:
        raise InvalidRequest("Choose an organisation for at least one store.")
    by_code = {store.code.casefold(): store for store in request.stores}
    if len({code.casefold() for code in choices}) != len(choices):
        raise InvalidRequest("Each store can be chosen only once.")
    unknown = [code for code in choices if code.casefold() not in by_code]
    if unknown:
        raise InvalidRequest(
            f"{listing(unknown)} {is_are(unknown)} not among the stores this link is for."
        )
    return [by_code[code.casefold()] for code in choices]


async def _chosen_connections(
    deps: Dependencies, session: AsyncSession, request: ConsentRequest, connection_ids: set[int]
) -> dict[int, XeroConnection]:
    found = await session.scalars(
        select(XeroConnection).where(
            XeroConnection.id.in_(connection_ids),
            XeroConnection.grant_id == request.grant_id,
            XeroConnection.auth_event_id == request.auth_event_id,
            XeroConnection.status == ConnectionStatus.ACTIVE,
        )
    )
    connections = {connection.id: connection for connection in found}
    if set(connections) != connection_ids:
        raise InvalidRequest(
            "That organisation was not authorised with this link. "
            "Choose one from the list, or connect to Xero again to add it."
        )
    for connection in connections.values():
        option = organisation_option(deps, connection)
        if not option.eligible:
            raise InvalidRequest(
                f"{connection.tenant_name} cannot be connected: {option.reason}. "
                "Choose an organisation on a standard plan or above."
            )
    return connections


def _choices_by_code(choices: Mapping[str, int]) -> dict[str, int]:
    return {code.casefold(): connection_id for code, connection_id in choices.items()}


def _confirmation(
    request: ConsentRequest,
    stores: list[Store],
    wanted: Mapping[int, XeroConnection],
    *,
    unchanged: bool,
) -> Confirmation:
    return Confirmation(
        consent_request_id=request.id,
        customer_id=request.customer_id,
        linked=tuple((store.code, wanted[store.id].tenant_name) for store in stores),
        unchanged=unchanged,
    )
