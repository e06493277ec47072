"""Customers: registering them with their Cloud POS key, finding them, their stores."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Store, StoreStatus

from ._queries import customer_row, load_customer_view, store_rows
from ._session import audit, transaction
from .dependencies import Dependencies
from .errors import Ambiguous, Conflict, InvalidRequest, NotFound
from .results import CustomerCandidate, CustomerView

MAX_NAME_LENGTH = 200


async def register(deps: Dependencies, *, name: str, api_key: str, actor: str) -> CustomerView:
    """Add a Cloud POS customer the helpdesk will connect, after checking key and licence."""
    name = " ".join(name.split())
    api_key = api_key.strip()
    if not name:
        raise InvalidRequest("Give the customer a name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(
            f"Keep the customer name under {MAX_NAME_LENGTH} characters.", field="name"
        )
    if not api_key:
        raise InvalidRequest("Paste the customer's Cloud POS API key.", field="api_key")

    licence = await deps.cloudpos.licence(api_key)
    if not licence.is_pro_plus:
        raise InvalidRequest(
            f"{_brief(licence.group)} has a Cloud POS {_brief(licence.licence)} licence; "
            "Xero needs Pro Plus. Their Success Team contact can upgrade it.",
            field="api_key",
        )
    remote_stores = await deps.cloudpos.stores(api_key)

    try:
        async with transaction(deps) as session:
            await _refuse_duplicate(deps, session, name=name, group=licence.group)
            customer = Customer(
                name=name,
                name_key=name.casefold(),
                cloudpos_group=licence.group,
                licence=licence.licence,
                api_key_encrypted=deps.vault.encrypt(api_key),
                created_at=deps.clock(),
                updated_at=deps.clock(),
            )
            customer.stores = [
                Store(
                    code=remote.code,
                    name=remote.name,
                    active_in_cloudpos=remote.active,
                    status=StoreStatus.NOT_CONNECTED,
                    status_changed_at=deps.clock(),
                )
                for remote in remote_stores
            ]
            session.add(customer)
            await session.flush()
            audit(
                deps,
                session,
                actor=actor,
                action="customer.registered",
                customer_id=customer.id,
                cloudpos_group=licence.group,
                licence=licence.licence,
                stores=len(remote_stores),
            )
            view = await load_customer_view(deps, session, customer)
    except IntegrityError:
        raise Conflict(
            f"A customer named {name!r} or with Cloud POS group {licence.group!r} was "
            "registered at the same moment. Look it up instead."
        ) from None
    return view


async def identify(deps: Dependencies, *, query: str) -> CustomerCandidate:
    """Resolve what an agent typed (a number like `12`/`#12`, or a name) to one customer."""
    async with transaction(deps, read_only=True) as session:
        customer = await _customer_by_query(deps, session, query)
        return CustomerCandidate(id=customer.id, name=customer.name)


async def identify_leading(
    deps: Dependencies, *, words: Sequence[str], quoted: bool = False
) -> tuple[CustomerCandidate, tuple[str, ...]]:
    """The customer the longest leading `words` name, and the words after it (store codes,
    an organisation), in one read. With `quoted`, the first word is the whole name.

    A miss on every reading is reported for the longest one, with suggestions."""
    if not words:
        raise InvalidRequest("Say which customer: their name or their number.")
    cuts = [1] if quoted else list(range(len(words), 0, -1))
    async with transaction(deps, read_only=True) as session:
        for cut in cuts:
            query = " ".join(words[:cut])
            try:
                customer = await _customer_by_query(deps, session, query, suggest=False)
            except NotFound:
                continue
            except Ambiguous as several:
                several.query = query
                raise
            return CustomerCandidate(id=customer.id, name=customer.name), tuple(words[cut:])
        longest = " ".join(words[: cuts[0]])
        await _customer_by_query(deps, session, longest)  # raises NotFound, with suggestions
    raise NotFound(f"No customer matches {longest!r}.")


async def _customer_by_query(
    deps: Dependencies, session: AsyncSession, query: str, *, suggest: bool = True
) -> Customer:
    text = " ".join(query.split())
    if not text:
        raise InvalidRequest("Say which customer: their name or their number.")
    if text.lstrip("#").isdigit():
        return await customer_row(deps, session, int(text.lstrip("#")))
    return await _customer_by_name(session, text, suggest=suggest)


async def get(deps: Dependencies, *, customer_id: int) -> CustomerView:
    """A customer with their stores, each as people should see it: what a card shows."""
    async with transaction(deps, read_only=True) as session:
        customer = await customer_row(deps, session, customer_id)
        return await load_customer_view(deps, session, customer)


async def refresh_stores(deps: Dependencies, *, customer_id: int, actor: str) -> CustomerView:
    """Bring the store list in line with Cloud POS: new stores added, closed ones flagged."""
    async with transaction(deps, read_only=True) as session:
        customer = await customer_row(deps, session, customer_id)
        api_key = deps.vault.decrypt(customer.api_key_encrypted)
    remote_stores = await deps.cloudpos.stores(api_key)

    async with transaction(deps) as session:
        customer = await customer_row(deps, session, customer_id)
        stores = {store.code: store for store in await store_rows(deps, session, customer_id)}
        added, renamed, deactivated = [], [], []
        for remote in remote_stores:
            store = stores.pop(remote.code, None)
            if store is None:
                session.add(
                    Store(
                        customer_id=customer_id,
                        code=remote.code,
                        name=remote.name,
                        active_in_cloudpos=remote.active,
                        status=StoreStatus.NOT_CONNECTED,
                        status_changed_at=deps.clock(),
                    )
                )
                added.append(remote.code)
                continue
            if store.name != remote.name:
                store.name = remote.name
                renamed.append(remote.code)
            if store.active_in_cloudpos != remote.active:
                store.active_in_cloudpos = remote.active
                if not remote.active:
                    deactivated.append(remote.code)
        for missing in stores.values():
            if missing.active_in_cloudpos:
                missing.active_in_cloudpos = False
                deactivated.append(missing.code)
        audit(
            deps,
            session,
            actor=actor,
            action="stores.refreshed",
            customer_id=customer_id,
            added=added,
            renamed=renamed,
            deactivated=deactivated,
        )
        await session.flush()
        return await load_customer_view(deps, session, customer)


async def _customer_by_name(session: AsyncSession, name: str, *, suggest: bool = True) -> Customer:
    key = name.casefold()
    exact = await session.scalar(select(Customer).where(Customer.name_key == key))
    if exact is not None:
        return exact
    pattern = f"%{_escape_like(key)}%"
    partial = list(
        await session.scalars(
            select(Customer)
            .where(Customer.name_key.like(pattern, escape="\\"))
            .order_by(Customer.name_key)
            .limit(25)
        )
    )
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise Ambiguous(
            f"{len(partial)} customers match {name!r}; choose one.",
            candidates=[CustomerCandidate(id=c.id, name=c.name) for c in partial],
        )
    if not suggest:
        raise NotFound(f"No customer matches {name!r}.")
    names = list(await session.scalars(select(Customer.name)))
    closest = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(closest)}?" if closest else ""
    raise NotFound(f"No customer matches {name!r}.{hint}")


async def _refuse_duplicate(
    deps: Dependencies, session: AsyncSession, *, name: str, group: str
) -> None:
    existing = await session.scalar(
        select(Customer).where(
            or_(Customer.name_key == name.casefold(), Customer.cloudpos_group == group)
        )
    )
    if existing is None:
        return
    if existing.cloudpos_group == group:
        raise Conflict(
            f"Cloud POS group {_brief(group)!r} is already registered as "
            f"{_brief(existing.name)} (#{existing.id}).",
            field="api_key",
        )
    raise Conflict(
        f"A customer named {_brief(existing.name)} (#{existing.id}) already exists.",
        field="name",
    )


def _brief(text: str, limit: int = 40) -> str:
    """Names inside a form's field error, which front doors show in at most 150 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
