"""Through a whole journey, no secret reaches a log line, at any level."""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.common.vault import Vault
from bot.domain import ConnectionService
from bot.domain.errors import DomainError
from storage.engine import transaction
from storage.models import XeroGrant
from tests.conftest import ENCRYPTION_KEY
from tests.domain_helpers import AGENT, CUSTOMER, authorise, option_id, token_of
from tests.fakes import FakeCloudPos, FakeXero

API_KEY = "cloudpos-key-3f9c2a7d"


async def test_no_secret_is_logged_from_registration_to_disconnect(
    service: ConnectionService,
    cloudpos: FakeCloudPos,
    xero: FakeXero,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [API_KEY, ENCRYPTION_KEY, "client-secret-value"]
    cloudpos.add(API_KEY, group="acme")

    customer = await service.register_customer(name="Acme", api_key=API_KEY, actor=AGENT)
    with pytest.raises(DomainError) as rejected:
        await service.register_customer(name="Acme 2", api_key=API_KEY + "x", actor=AGENT)
    link = await service.issue_consent_link(customer_id=customer.id, store_codes=None, actor=AGENT)
    consent_token = token_of(link.url)
    org = xero.add_organisation("Org")
    code = xero.consent("xero-user-1", [org])
    tokens = xero.codes[code]
    view = await authorise(service, consent_token, code)
    await service.confirm_organisations(
        token=consent_token, choices={"S001": option_id(view, "Org")}, actor=CUSTOMER
    )
    async with transaction(service._deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
        assert grant is not None
        grant.access_token_expires_at = service._now() + timedelta(minutes=1)
    refreshed_access = await service.access_token(grant_id=grant.id)
    async with transaction(service._deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
    assert grant is not None
    refreshed_refresh = Vault([ENCRYPTION_KEY]).decrypt(grant.refresh_token_encrypted)
    group = (await service.summary(customer_id=customer.id)).groups[0]
    await service.disconnect_organisation(
        customer_id=customer.id, tenant_id=group.tenant_id, actor=AGENT
    )

    secrets += [consent_token, code, tokens.access_token, tokens.refresh_token]
    secrets += [refreshed_access, refreshed_refresh]
    assert len(caplog.records) > 5, "the journey should have logged something"
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert secret not in str(rejected.value)


async def test_no_secret_is_logged_or_raised_when_xero_fails(
    service: ConnectionService,
    cloudpos: FakeCloudPos,
    xero: FakeXero,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cloudpos.add(API_KEY, group="acme")
    customer = await service.register_customer(name="Acme", api_key=API_KEY, actor=AGENT)
    link = await service.issue_consent_link(customer_id=customer.id, store_codes=None, actor=AGENT)
    consent_token = token_of(link.url)
    org = xero.add_organisation("Org")
    code = xero.consent("xero-user-1", [org])
    tokens = xero.codes[code]
    await authorise(service, consent_token, code)
    async with transaction(service._deps.sessions) as session:
        grant = await session.scalar(select(XeroGrant))
        assert grant is not None
        grant.access_token_expires_at = service._now()

    raised: list[BaseException] = []
    xero.lose_token_responses = 10  # every refresh times out
    with pytest.raises(DomainError) as timed_out:
        await service.access_token(grant_id=grant.id)
    raised.append(timed_out.value)
    with pytest.raises(DomainError) as reused_code:
        await authorise(service, consent_token, code)  # the code was used up
    raised.append(reused_code.value)
    xero.lose_token_responses = 0
    xero.revoked_users.add("xero-user-1")
    with pytest.raises(DomainError) as revoked:
        await service.access_token(grant_id=grant.id)
    raised.append(revoked.value)

    assert any(record.levelno >= logging.WARNING for record in caplog.records)
    told = caplog.text + "".join("".join(traceback.format_exception(error)) for error in raised)
    for secret in (API_KEY, consent_token, code, tokens.access_token, tokens.refresh_token,
                   "client-secret-value", ENCRYPTION_KEY):  # fmt: skip
        assert secret not in told
