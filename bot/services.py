"""Builds the connection service from settings, and closes what it opened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.cloudpos import CloudPosClient
from bot.domain import ConnectionService, Dependencies
from bot.notify import LoggingNotifier, Notifier
from bot.settings import Settings
from bot.vault import Vault
from bot.xero import XeroClient
from storage.engine import create_engine, session_factory


@asynccontextmanager
async def connection_service(
    settings: Settings, *, notifier: Notifier | None = None
) -> AsyncIterator[ConnectionService]:
    """The service wired to the configured database, Cloud POS and Xero."""
    engine = create_engine(settings.database_url)
    cloudpos = CloudPosClient(base_url=settings.cloudpos_api_url)
    xero = XeroClient.from_settings(settings)
    try:
        yield ConnectionService(
            Dependencies(
                sessions=session_factory(engine),
                vault=Vault(settings.token_encryption_keys),
                cloudpos=cloudpos,
                xero=xero,
                public_base_url=settings.public_base_url,
                plans=settings.plan_policy,
                consent_link_lifetime=settings.consent_link_lifetime,
                notifier=notifier or LoggingNotifier(),
            )
        )
    finally:
        await xero.aclose()
        await cloudpos.aclose()
        await engine.dispose()
