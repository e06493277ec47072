"""Consent links from issue to the organisation choice, including every way one goes wrong."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import domain
from bot.domain import Dependencies
from bot.domain.errors import Conflict, ConsentLinkUnusable, InvalidRequest, NotFound
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import session_factory, transaction
from storage.models import (
    ConsentRequest,
    OAuthState,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)
from tests.conftest import PUBLIC_BASE_URL, Clock
from tests.domain_helpers import (
    AGENT,
    BROWSER,
    CUSTOMER,
    allow_at_xero,
    allowed,
    authorise,
    callback,
    connected_elsewhere,
    consented,
    option_id,
    registered,
    snapshot,
    token_of,
)


async def test_issue_returns_a_url_whose_token_is_stored_only_as_a_hash(
    deps: Dependencies, cloudpos: CloudPosEmulator, engine: AsyncEngine, clock: Clock
) -> None:
    customer = await registered(deps, cloudpos)

    link = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["s001", "S002"], actor=AGENT
    )

    token = token_of(link.url)
    assert link.url == f"{PUBLIC_BASE_URL}/connect/{token}"
    assert len(token) >= 43  # 32 random bytes: 256 bits
    assert link.store_codes == ("S001", "S002")
    assert link.expires_at == clock.now + timedelta(hours=72)
    assert token not in repr(link)
    rows = await snapshot(engine)
    assert token not in repr(rows)
    async with transaction(session_factory(engine)) as session:
        request = await session.scalar(select(ConsentRequest))
    assert request is not None
    assert request.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stores = (await domain.customers.get(deps, customer_id=customer.id)).stores
    assert [s.status for s in stores] == [
        StoreStatus.CONSENT_SENT, StoreStatus.CONSENT_SENT, StoreStatus.NOT_CONNECTED,
    ]  # fmt: skip


async def test_two_links_never_have_the_same_token(
    deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    first = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["S001"], actor=AGENT
    )
    second = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["S002"], actor=AGENT
    )
    assert token_of(first.url) != token_of(second.url)


async def test_issue_refuses_bad_input_and_writes_nothing(
    deps: Dependencies, cloudpos: CloudPosEmulator, engine: AsyncEngine
) -> None:
    acme = await registered(deps, cloudpos, name="Acme", stores=2)
    await registered(deps, cloudpos, name="Other", stores=4)
    before = await snapshot(engine)

    with pytest.raises(NotFound, match="S004 is not among the stores of Acme"):
        await domain.links.issue(deps, customer_id=acme.id, store_codes=["S004"], actor=AGENT)
    with pytest.raises(NotFound, match="no customer #99"):
        await domain.links.issue(deps, customer_id=99, store_codes=None, actor=AGENT)
    with pytest.raises(InvalidRequest, match="at least one store"):
        await domain.links.issue(deps, customer_id=acme.id, store_codes=[" "], actor=AGENT)

    assert await snapshot(engine) == before


async def test_a_new_link_for_a_store_replaces_the_older_open_link(
    deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    first = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["S001", "S002"], actor=AGENT
    )
    second = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["S002", "S003"], actor=AGENT
    )

    assert [(r.consent_request_id, r.store_codes) for r in second.replaced] == [
        (first.consent_request_id, ("S001", "S002"))
    ]
    with pytest.raises(ConsentLinkUnusable) as raised:
        await domain.consent.open(deps, token=token_of(first.url))
    assert raised.value.reason == "revoked"
    stores = {
        s.code: s.status for s in (await domain.customers.get(deps, customer_id=customer.id)).stores
    }
    assert stores == {
        "S001": StoreStatus.NOT_CONNECTED,
        "S002": StoreStatus.CONSENT_SENT,
        "S003": StoreStatus.CONSENT_SENT,
    }


async def test_opening_a_link_changes_nothing(
    deps: Dependencies, cloudpos: CloudPosEmulator, engine: AsyncEngine
) -> None:
    customer = await registered(deps, cloudpos)
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    before = await snapshot(engine)

    view = await domain.consent.open(deps, token=token_of(link.url))

    assert view.customer_name == "Acme"
    assert [s.code for s in view.stores] == ["S001", "S002", "S003"]
    assert await snapshot(engine) == before


async def test_unknown_expired_and_revoked_links_are_refused(
    deps: Dependencies, cloudpos: CloudPosEmulator, clock: Clock
) -> None:
    customer = await registered(deps, cloudpos)
    with pytest.raises(ConsentLinkUnusable, match=r"not valid\. Ask your helpdesk") as unknown:
        await domain.consent.open(deps, token="made-up-token")
    assert unknown.value.reason == "unknown"

    revoked = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["S001"], actor=AGENT
    )
    await domain.links.revoke(deps, consent_request_id=revoked.consent_request_id, actor=AGENT)
    with pytest.raises(ConsentLinkUnusable, match="withdrawn") as withdrawn:
        await domain.consent.open(deps, token=token_of(revoked.url))
    assert withdrawn.value.reason == "revoked"
    with pytest.raises(InvalidRequest, match="already revoked"):
        await domain.links.revoke(deps, consent_request_id=revoked.consent_request_id, actor=AGENT)

    expiring = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["S002"], actor=AGENT
    )
    clock.advance(hours=72, seconds=1)
    with pytest.raises(ConsentLinkUnusable, match="expired") as expired:
        await domain.consent.open(deps, token=token_of(expiring.url))
    assert expired.value.reason == "expired"
    statuses = {
        s.code: s.status for s in (await domain.customers.get(deps, customer_id=customer.id)).stores
    }
    assert statuses["S002"] == StoreStatus.NOT_CONNECTED


async def test_complete_consent_stores_the_grant_encrypted_and_the_organisations_of_this_consent(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    earlier = emulator.add_organisation("Earlier Org", plan_class="PREMIUM")
    connected_elsewhere(emulator, [earlier])  # connected before: not part of this consent
    standard = emulator.add_organisation("Acme Ltd", plan_class="STANDARD")
    starter = emulator.add_organisation("Acme Starter", plan_class="STARTER")

    _, view = await consented(deps, emulator, customer, [standard, starter], codes=["S001"])

    assert view.status == "authorised"
    assert [(o.tenant_name, o.plan_label, o.eligible) for o in view.organisations] == [
        ("Acme Ltd", "Standard", True),
        ("Acme Starter", "Starter", False),
    ]
    assert view.organisations[1].reason.startswith("Starter plan — trial, starter and demo")
    assert [s.status for s in view.stores] == [StoreStatus.AWAITING_CHOICE]
    async with transaction(session_factory(engine)) as session:
        grant = await session.scalar(select(XeroGrant))
        connections = (await session.scalars(select(XeroConnection))).all()
    assert grant is not None
    assert grant.xero_user_id == "xero-user-1"
    assert grant.user_email == "xero-user-1@example.com"
    assert "refresh-" not in grant.refresh_token_encrypted
    assert sorted(c.tenant_name for c in connections) == ["Acme Ltd", "Acme Starter"]
    assert {c.plan_class for c in connections} == {"STANDARD", "STARTER"}
    log = [entry.action for entry in await domain.audit.history(deps, customer_id=customer.id)]
    assert log[:3] == ["consent.authorised", "consent.started", "consent.issued"]


async def test_confirm_links_stores_and_completes_the_link(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    first = emulator.add_organisation("First Org", plan_class="STANDARD")
    second = emulator.add_organisation("Second Org", plan_class="PREMIUM")
    token, view = await consented(deps, emulator, customer, [first, second], codes=["S001", "S002"])

    result = await domain.choice.confirm(
        deps,
        token=token,
        choices={"S001": option_id(view, "First Org"), "S002": option_id(view, "Second Org")},
        actor=CUSTOMER,
    )

    assert result.linked == (("S001", "First Org"), ("S002", "Second Org"))
    assert not result.unchanged
    stores = (await domain.customers.get(deps, customer_id=customer.id)).stores
    assert [(s.code, s.status, s.organisation_name) for s in stores] == [
        ("S001", StoreStatus.CONNECTED, "First Org"),
        ("S002", StoreStatus.CONNECTED, "Second Org"),
        ("S003", StoreStatus.NOT_CONNECTED, None),
    ]
    with pytest.raises(ConsentLinkUnusable) as reused:
        await domain.consent.open(deps, token=token)
    assert reused.value.reason == "completed"


async def test_confirming_again_is_a_no_op(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org", plan_class="STANDARD")
    token, view = await consented(deps, emulator, customer, [org], codes=["S001"])
    choices = {"S001": option_id(view, "Org")}
    await domain.choice.confirm(deps, token=token, choices=choices, actor=CUSTOMER)
    before = await snapshot(engine)

    again = await domain.choice.confirm(deps, token=token, choices=choices, actor=CUSTOMER)

    assert again.unchanged
    assert again.linked == (("S001", "Org"),)
    assert await snapshot(engine) == before


async def test_confirming_an_ineligible_organisation_is_refused(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    trial = emulator.add_organisation("Trial Org", plan_class="TRIAL")
    token, view = await consented(deps, emulator, customer, [trial], codes=["S001"])
    before = await snapshot(engine)

    with pytest.raises(InvalidRequest, match="Trial Org cannot be connected: Trial plan"):
        await domain.choice.confirm(
            deps, token=token, choices={"S001": option_id(view, "Trial Org")}, actor=CUSTOMER
        )
    assert await snapshot(engine) == before


async def test_moving_a_connected_store_needs_an_explicit_replace(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    old, new = emulator.add_organisation("Old Org"), emulator.add_organisation("New Org")
    token, view = await consented(deps, emulator, customer, [old], codes=["S001"])
    await domain.choice.confirm(
        deps, token=token, choices={"S001": option_id(view, "Old Org")}, actor=CUSTOMER
    )
    token, view = await consented(deps, emulator, customer, [new], codes=["S001"])

    with pytest.raises(Conflict, match="already connected to Old Org"):
        await domain.choice.confirm(
            deps, token=token, choices={"S001": option_id(view, "New Org")}, actor=CUSTOMER
        )
    moved = await domain.choice.confirm(
        deps,
        token=token,
        choices={"S001": option_id(view, "New Org")},
        actor=CUSTOMER,
        replace=True,
    )

    assert moved.linked == (("S001", "New Org"),)
    store = (await domain.customers.get(deps, customer_id=customer.id)).stores[0]
    assert (store.status, store.organisation_name) == (StoreStatus.CONNECTED, "New Org")


async def test_reconsent_by_the_same_xero_user_reuses_the_grant_row(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org")
    await consented(deps, emulator, customer, [org], codes=["S001"])
    await consented(deps, emulator, customer, [org], codes=["S002"])
    async with transaction(session_factory(engine)) as session:
        grants = (await session.scalars(select(XeroGrant))).all()
        connections = (await session.scalars(select(XeroConnection))).all()
    assert len(grants) == 1
    assert len(connections) == 1


async def test_one_customers_link_cannot_touch_another_customers_stores(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    acme = await registered(deps, cloudpos, name="Acme")
    other = await registered(deps, cloudpos, name="Other")
    acme_org, other_org = (
        emulator.add_organisation("Acme Org"),
        emulator.add_organisation("Other Org"),
    )
    acme_token, acme_view = await consented(deps, emulator, acme, [acme_org], codes=["S001"])
    other_token, other_view = await consented(
        deps, emulator, other, [other_org], codes=["S002"], user="xero-user-2"
    )
    before = await snapshot(engine)

    with pytest.raises(InvalidRequest, match="S002 is not among the stores this link is for"):
        await domain.choice.confirm(
            deps,
            token=acme_token,
            choices={"S002": option_id(acme_view, "Acme Org")},
            actor=CUSTOMER,
        )
    with pytest.raises(InvalidRequest, match="not authorised with this link"):
        await domain.choice.confirm(
            deps,
            token=acme_token,
            choices={"S001": option_id(other_view, "Other Org")},
            actor=CUSTOMER,
        )
    assert await snapshot(engine) == before
    assert other_token != acme_token


async def test_confirm_before_consent_or_with_no_choice_is_refused(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    with pytest.raises(InvalidRequest, match="has not connected to Xero with this link yet"):
        await domain.choice.confirm(
            deps, token=token_of(link.url), choices={"S001": 1}, actor=AGENT
        )
    org = emulator.add_organisation("Org")
    token, _ = await consented(deps, emulator, customer, [org])
    with pytest.raises(InvalidRequest, match="at least one store"):
        await domain.choice.confirm(deps, token=token, choices={}, actor=CUSTOMER)


async def test_an_agent_can_confirm_from_slack_by_request_id(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org")
    _, view = await consented(deps, emulator, customer, [org], codes=["S003"])
    result = await domain.choice.confirm(
        deps,
        consent_request_id=view.consent_request_id,
        choices={"S003": option_id(view, "Org")},
        actor=AGENT,
    )
    assert result.linked == (("S003", "Org"),)
    async with transaction(deps.sessions) as session:
        link = await session.scalar(select(StoreLink))
    assert link is not None
    assert link.linked_by == AGENT


async def test_a_completed_link_cannot_be_consented_again(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org")
    token, view = await consented(deps, emulator, customer, [org], codes=["S001"])
    await domain.choice.confirm(
        deps, token=token, choices={"S001": option_id(view, "Org")}, actor=CUSTOMER
    )
    with pytest.raises(ConsentLinkUnusable, match="already been used"):
        await authorise(deps, emulator, token, [org])


async def test_cancelling_at_xero_is_audited_and_the_link_stays_usable(
    deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    token = token_of(link.url)

    view = await domain.consent.cancel(
        deps, attempt=await callback(deps, token), reason="access_denied"
    )

    assert view.status == "issued"
    assert (
        await domain.consent.open(deps, token=token)
    ).consent_request_id == link.consent_request_id
    latest = (await domain.audit.history(deps, customer_id=customer.id))[0]
    assert (latest.action, latest.detail["reason"]) == ("consent.cancelled", "access_denied")


async def test_links_for_two_customers_can_be_issued_at_the_same_moment(
    deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    acme = await registered(deps, cloudpos, name="Acme")
    other = await registered(deps, cloudpos, name="Other")

    links = await asyncio.gather(
        *(
            domain.links.issue(deps, customer_id=customer.id, store_codes=[code], actor=AGENT)
            for customer in (acme, other)
            for code in ("S001", "S002")
        )
    )

    assert len({link.url for link in links}) == 4


async def test_only_organisations_of_this_consent_are_offered(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    """One Xero user consents for two customers: each link offers only what it authorised."""
    acme = await registered(deps, cloudpos, name="Acme")
    other = await registered(deps, cloudpos, name="Other")
    acme_org, other_org = emulator.add_organisation("A Ltd"), emulator.add_organisation("B Ltd")
    _, acme_view = await consented(deps, emulator, acme, [acme_org], codes=["S001"])
    other_token, other_view = await consented(deps, emulator, other, [other_org], codes=["S001"])

    assert [o.tenant_name for o in other_view.organisations] == ["B Ltd"]
    with pytest.raises(InvalidRequest, match="not authorised with this link"):
        await domain.choice.confirm(
            deps, token=other_token, choices={"S001": option_id(acme_view, "A Ltd")}, actor=CUSTOMER
        )


async def test_the_same_confirmation_twice_at_once_links_once(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    engine: AsyncEngine,
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org")
    token, view = await consented(deps, emulator, customer, [org], codes=["S001", "S002"])
    choices = {"S001": option_id(view, "Org"), "S002": option_id(view, "Org")}

    results = await asyncio.gather(
        *(
            domain.choice.confirm(deps, token=token, choices=choices, actor=CUSTOMER)
            for _ in range(3)
        )
    )

    assert sorted(result.unchanged for result in results) == [False, True, True]
    async with transaction(session_factory(engine)) as session:
        links = (await session.scalars(select(StoreLink))).all()
    assert len(links) == 2


async def test_a_store_named_twice_in_one_confirmation_is_refused(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org")
    token, view = await consented(deps, emulator, customer, [org], codes=["S001"])
    with pytest.raises(InvalidRequest, match="only once"):
        await domain.choice.confirm(
            deps,
            token=token,
            choices={"S001": option_id(view, "Org"), "s001": option_id(view, "Org")},
            actor=CUSTOMER,
        )


async def test_an_organisation_whose_plan_xero_would_not_give_is_not_offered(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    hidden = emulator.add_organisation("Hidden Ltd", plan_class="STARTER")
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    attempt, code = await allowed(deps, emulator, token_of(link.url), [hidden])
    emulator.fail_next("organisation", status=403, times=None)  # Xero keeps the plan to itself

    view = await domain.consent.complete(deps, attempt=attempt, code=code)

    assert [(o.tenant_name, o.eligible, o.reason) for o in view.organisations] == [
        ("Hidden Ltd", False, "Xero did not tell the bot this organisation's plan")
    ]


async def test_the_code_goes_to_xero_with_the_verifier_of_the_challenge_sent(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator
) -> None:
    customer = await registered(deps, cloudpos)
    org = emulator.add_organisation("Org")
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    url = await domain.consent.start(deps, token=token_of(link.url), browser_id=BROWSER)
    query = parse_qs(urlsplit(url).query)
    attempt = await domain.consent.verify_callback(
        deps, state=query["state"][0], browser_id=BROWSER
    )
    await domain.consent.complete(deps, attempt=attempt, code=allow_at_xero(emulator, url, [org]))

    verifier = emulator.token_requests[-1]["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    async with transaction(deps.sessions, read_only=True) as session:
        [stored] = list(await session.scalars(select(OAuthState.code_verifier_encrypted)))
    assert stored
    assert verifier not in stored
