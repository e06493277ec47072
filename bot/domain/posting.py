"""Each store's posting set-up, checked live against its Xero organisation, and the step that
ends the bot's process: marking the store ready for sync.

Xero and Cloud POS are asked outside any transaction; what they said is checked again under
the store's row lock only against the database (the store is still connected to the same
organisation), so no lock is ever held across a network call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Store, StoreLink, StoreSetup, XeroConnection

from . import grants
from ._catalogue import catalogue
from ._outbox import StoreEvent, record
from ._posting_rules import choices_of, problems, recorded
from ._readiness import stop_being_ready
from ._session import audit, transaction
from ._setup_context import SetupContext, checklist_of, require_scopes, setup_context
from ._setup_form import copy_sources, matching_tender, setup_form
from ._setup_search import PAYMENT_ACCOUNT, SEARCHABLE, find_choices, find_contacts, find_tracking
from .dependencies import Dependencies
from .errors import Conflict, InvalidRequest, NotFound, SetupInvalid
from .ports import Tender, XeroContact
from .posting_values import Checklist, PostingChoices, SetupForm, SetupSaved

__all__ = [
    "PAYMENT_ACCOUNT",
    "SEARCHABLE",
    "copy_from",
    "find_choices",
    "find_contacts",
    "find_tracking",
    "form",
    "mark_ready",
    "save",
]


async def form(deps: Dependencies, *, customer_id: int, store_code: str) -> SetupForm:
    """What the set-up form of a connected store offers, with its current choices."""
    context, setup = await _context(deps, customer_id=customer_id, store_code=store_code)
    require_scopes(context)
    access_token = await grants.access_token(deps, grant_id=context.grant_id)
    books = await catalogue(deps, access_token=access_token, tenant_id=context.tenant_id)
    tenders = await _tenders(deps, context)
    async with transaction(deps, read_only=True) as session:
        sources = await copy_sources(session, context)
    current = choices_of(setup) if setup and setup.tenant_id == context.tenant_id else None
    return setup_form(deps, context, books, tenders, current or PostingChoices(), sources, setup)


async def copy_from(
    deps: Dependencies, *, customer_id: int, store_code: str, source_code: str
) -> SetupForm:
    """The form of `store_code` filled with another store's choices in the same organisation;
    payment types are matched by name, then by type. Nothing is saved until submitted."""
    form_now = await form(deps, customer_id=customer_id, store_code=store_code)
    async with transaction(deps, read_only=True) as session:
        target = await setup_context(deps, session, customer_id=customer_id, store_code=store_code)
        source = await setup_context(deps, session, customer_id=customer_id, store_code=source_code)
        source_setup = await session.get(StoreSetup, source.store_id)
    if source_setup is None or not (source.tenant_id == target.tenant_id == source_setup.tenant_id):
        raise InvalidRequest(
            f"{source.store_name} has no posting set-up in {form_now.organisation_name} to copy."
        )
    copied = choices_of(source_setup)
    source_tenders = source_setup.payments or {}
    payments: dict[str, str] = {}
    for tender in form_now.tenders:
        match = matching_tender(tender, source_tenders)
        if match:
            payments[tender.id] = match
    filled = replace(copied, payments=payments)
    return replace(form_now, current=filled)


async def save(
    deps: Dependencies,
    *,
    customer_id: int,
    store_code: str,
    choices: PostingChoices,
    actor: str,
) -> SetupSaved:
    """Store the choices after checking each one against Xero again; audited with before and
    after. A ready store whose set-up is no longer complete stops being ready."""
    context, _ = await _context(deps, customer_id=customer_id, store_code=store_code)
    require_scopes(context)
    tenders = await _tenders(deps, context)
    checked = await _check(deps, context, choices, tenders)
    async with transaction(deps) as session:
        store, setup = await _locked(deps, session, context)
        before = recorded(choices_of(setup), tenders) if setup else None
        after = recorded(checked, tenders)
        changed = before != after or setup is None or setup.tenant_id != context.tenant_id
        if setup is None:
            setup = StoreSetup(store_id=store.id, tenant_id=context.tenant_id, updated_by=actor)
            session.add(setup)
        _apply(setup, after, context.tenant_id)
        setup.validated_at = deps.clock()
        if changed:
            setup.updated_at, setup.updated_by = deps.clock(), actor
            audit(
                deps, session, actor=actor, action="setup.changed", customer_id=customer_id,
                store_id=store.id, store=store.code, before=before, after=after,
            )  # fmt: skip
            record(deps, store, StoreEvent.SETUP_CHANGED, tenant_id=context.tenant_id)
        checklist = checklist_of(context, setup)
        if not checklist.setup_complete:
            stop_being_ready(deps, store, reason="posting set-up no longer complete", actor=actor)
        checklist = replace(checklist, ready=store.ready_at is not None)
    warnings: tuple[str, ...] = ()
    today = deps.clock().date()
    if checked.start_date is not None and checked.start_date < today:
        warnings = (
            f"Sync starts on {checked.start_date:%-d %B %Y}, before today: sales from then may "
            "already be in Xero. Check there before the first sync.",
        )
    return SetupSaved(
        store_code=context.store_code,
        store_name=context.store_name,
        organisation_name=context.tenant_name,
        checklist=checklist,
        changed=changed,
        warnings=warnings,
    )


async def mark_ready(
    deps: Dependencies, *, customer_id: int, store_code: str, actor: str
) -> Checklist:
    """The helpdesk's last step: possible only when every earlier step holds, checked now."""
    context, setup = await _context(deps, customer_id=customer_id, store_code=store_code)
    blocking = checklist_of(context, setup).blocking
    if blocking or setup is None:
        raise Conflict(f"{context.store_name} cannot be marked ready for sync: {blocking}.")
    require_scopes(context)
    tenders = await _tenders(deps, context)
    choices = choices_of(setup)
    missing = [tender.name for tender in tenders if tender.id not in choices.payments]
    if missing:
        raise Conflict(
            f"{context.store_name} cannot be marked ready for sync: Cloud POS has payment "
            f"types without an account ({', '.join(missing)[:300]}). Set up its posting again."
        )
    await _check(deps, context, choices, tenders)
    async with transaction(deps) as session:
        store, setup = await _locked(deps, session, context)
        checklist = checklist_of(context, setup)
        if checklist.blocking is not None:
            raise Conflict(
                f"{context.store_name} cannot be marked ready for sync: {checklist.blocking}."
            )
        if store.ready_at is None:
            store.ready_at, store.ready_by = deps.clock(), actor
            assert setup is not None
            setup.validated_at = deps.clock()
            audit(
                deps, session, actor=actor, action="store.ready", customer_id=customer_id,
                store_id=store.id, store=store.code, organisation=context.tenant_name,
            )  # fmt: skip
            record(deps, store, StoreEvent.READY, tenant_id=context.tenant_id)
        return replace(checklist, ready=True)


async def _context(
    deps: Dependencies, *, customer_id: int, store_code: str
) -> tuple[SetupContext, StoreSetup | None]:
    async with transaction(deps, read_only=True) as session:
        context = await setup_context(deps, session, customer_id=customer_id, store_code=store_code)
        return context, await session.get(StoreSetup, context.store_id)


async def _tenders(deps: Dependencies, context: SetupContext) -> list[Tender]:
    return await deps.cloudpos.tenders(
        deps.vault.decrypt(context.api_key_encrypted), context.store_code
    )


async def _check(
    deps: Dependencies, context: SetupContext, choices: PostingChoices, tenders: list[Tender]
) -> PostingChoices:
    """The choices as Xero knows them now (contact names from Xero), or SetupInvalid."""
    access_token = await grants.access_token(deps, grant_id=context.grant_id)
    books = await catalogue(
        deps, access_token=access_token, tenant_id=context.tenant_id, fresh=True
    )
    contact: XeroContact | None = None
    if choices.contact_id is not None:
        contact = await deps.xero.contact(
            access_token=access_token, tenant_id=context.tenant_id, contact_id=choices.contact_id
        )
    known = {tender.id for tender in tenders}
    choices = replace(
        choices,
        payments={key: value for key, value in choices.payments.items() if key in known},
        contact_name=contact.name if contact else choices.contact_name,
    )
    found = problems(
        choices, books, tenders=tenders, contact=contact, earliest_start=context.linked_on
    )
    if found:
        raise SetupInvalid(
            f"{len(found)} of the choices for {context.store_name} do not hold in "
            f"{context.tenant_name}. Choose again where marked.",
            problems=found,
        )
    return choices


async def _locked(
    deps: Dependencies, session: AsyncSession, context: SetupContext
) -> tuple[Store, StoreSetup | None]:
    """The store's row, locked, still linked to the organisation the checks asked."""
    store = await session.get(Store, context.store_id, with_for_update=True, populate_existing=True)
    tenant = await session.scalar(
        select(XeroConnection.tenant_id)
        .join(StoreLink, StoreLink.connection_id == XeroConnection.id)
        .where(StoreLink.store_id == context.store_id, StoreLink.active.is_(True))
    )
    if store is None:
        raise NotFound(f"{context.store_name} was removed meanwhile.")
    if tenant != context.tenant_id or store.status != context.status:
        raise Conflict(
            f"{context.store_name}'s connection to Xero changed meanwhile. Open its set-up again."
        )
    setup = await session.get(StoreSetup, store.id, populate_existing=True)
    return store, setup


def _apply(setup: StoreSetup, values: dict[str, object], tenant_id: str) -> None:
    setup.tenant_id = tenant_id
    for name, value in values.items():
        if name == "start_date":
            setup.start_date = _date_of(value)
        else:
            setattr(setup, name, value)


def _date_of(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None
