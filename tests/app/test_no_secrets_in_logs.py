"""Through a whole journey, no secret reaches a log line, at any level."""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import domain
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.domain.errors import DomainError
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import transaction
from storage.models import XeroGrant
from tests.conftest import CLIENT_SECRET, ENCRYPTION_KEY
from tests.domain_helpers import (
    AGENT,
    CUSTOMER,
    allowed,
    callback,
    option_id,
    stored_grant,
    token_of,
)

API_KEY = "cloudpos-key-3f9c2a7d"


async def issued_tokens(deps: Dependencies, emulator: XeroEmulator) -> tuple[str, str]:
    """The access and refresh token Xero issued, as the bot stored them."""
    grant = await stored_grant(deps)
    vault = Vault([ENCRYPTION_KEY])
    access = vault.decrypt(grant.access_token_encrypted)
    refresh = vault.decrypt(grant.refresh_token_encrypted)
    assert emulator.refresh_token_info(refresh) is not None, "not a token Xero issued"
    return access, refresh


async def authorise_with(deps: Dependencies, token: str, code: str) -> None:
    """Come back from Xero on the link with `code`, whatever it was issued for."""
    await domain.consent.complete(deps, attempt=await callback(deps, token), code=code)


async def test_no_secret_is_logged_from_registration_to_disconnect(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [API_KEY, ENCRYPTION_KEY, CLIENT_SECRET]
    cloudpos.add_account(API_KEY, group="acme")

    customer = await domain.customers.register(deps, name="Acme", api_key=API_KEY, actor=AGENT)
    with pytest.raises(DomainError) as rejected:
        await domain.customers.register(deps, name="Acme 2", api_key=API_KEY + "x", actor=AGENT)
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    consent_token = token_of(link.url)
    org = emulator.add_organisation("Org")
    attempt, code = await allowed(deps, emulator, consent_token, [org])
    view = await domain.consent.complete(deps, attempt=attempt, code=code)
    access, refresh = await issued_tokens(deps, emulator)
    await domain.choice.confirm(
        deps, token=consent_token, choices={"S001": option_id(view, "Org")}, actor=CUSTOMER
    )
    async with transaction(deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
        assert grant is not None
        grant.access_token_expires_at = deps.clock() + timedelta(minutes=1)
    refreshed_access = await domain.grants.access_token(deps, grant_id=grant.id)
    async with transaction(deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
    assert grant is not None
    refreshed_refresh = Vault([ENCRYPTION_KEY]).decrypt(grant.refresh_token_encrypted)
    group = (await domain.organisations.summary(deps, customer_id=customer.id)).groups[0]
    await domain.organisations.disconnect(
        deps, customer_id=customer.id, tenant_id=group.tenant_id, actor=AGENT
    )

    secrets += [consent_token, code, access, refresh]
    secrets += [refreshed_access, refreshed_refresh]
    assert len(caplog.records) > 5, "the journey should have logged something"
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert secret not in str(rejected.value)


async def test_no_secret_is_logged_or_raised_when_xero_fails(
    deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cloudpos.add_account(API_KEY, group="acme")
    customer = await domain.customers.register(deps, name="Acme", api_key=API_KEY, actor=AGENT)
    link = await domain.links.issue(deps, customer_id=customer.id, store_codes=None, actor=AGENT)
    consent_token = token_of(link.url)
    org = emulator.add_organisation("Org")
    attempt, code = await allowed(deps, emulator, consent_token, [org])
    await domain.consent.complete(deps, attempt=attempt, code=code)
    access, refresh = await issued_tokens(deps, emulator)
    async with transaction(deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
        assert grant is not None
        grant.access_token_expires_at = deps.clock()

    raised: list[BaseException] = []
    emulator.lose_next_answers("token", times=10)  # every refresh times out
    with pytest.raises(DomainError) as timed_out:
        await domain.grants.access_token(deps, grant_id=grant.id)
    raised.append(timed_out.value)
    with pytest.raises(DomainError) as reused_code:
        await authorise_with(deps, consent_token, code)  # the code was used up
    raised.append(reused_code.value)
    emulator.clear_faults()
    emulator.revoke_user("xero-user-1")
    with pytest.raises(DomainError) as revoked:
        await domain.grants.access_token(deps, grant_id=grant.id)
    raised.append(revoked.value)

    assert any(record.levelno >= logging.WARNING for record in caplog.records)
    told = caplog.text + "".join("".join(traceback.format_exception(error)) for error in raised)
    for secret in (API_KEY, consent_token, code, access, refresh,
                   CLIENT_SECRET, ENCRYPTION_KEY):  # fmt: skip
        assert secret not in told
