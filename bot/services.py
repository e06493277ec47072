"""Builds the connection service from settings, and closes what it opened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.clients.cloudpos import CloudPosClient
from bot.clients.xero import XeroClient
from bot.common.metrics import CONSENT_EVENTS
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.domain.notify import ConsentEvent, LoggingNotifier, Notifier, Reminder, StoresAlert
from bot.settings import Settings
from storage.engine import create_engine, session_factory


@asynccontextmanager
async def dependencies_for(
    settings: Settings, *, notifier: Notifier | None = None
) -> AsyncIterator[Dependencies]:
    """The domain's dependencies, wired to the configured database, Cloud POS and Xero."""
    engine = create_engine(settings.database_url)
    cloudpos = CloudPosClient(base_url=settings.cloudpos_api_url)
    xero = xero_client(settings)
    try:
        yield Dependencies(
            sessions=session_factory(engine),
            vault=Vault(settings.token_encryption_keys),
            cloudpos=cloudpos,
            xero=xero,
            public_base_url=settings.public_base_url,
            plans=settings.plan_policy,
            consent_link_lifetime=settings.consent_link_lifetime,
            tier=settings.xero_app_tier,
            notifier=notifier or LoggingNotifier(),
        )
    finally:
        await xero.aclose()
        await cloudpos.aclose()
        await engine.dispose()


def xero_client(settings: Settings, **kwargs: Any) -> XeroClient:
    """The Xero client the running bot uses; `kwargs` tune timeouts, retries and transport."""
    return XeroClient(
        client_id=settings.xero_client_id,
        client_secret=settings.xero_client_secret,
        redirect_uri=settings.xero_redirect_uri,
        scopes=settings.xero_scopes,
        authorize_url=settings.xero_authorize_url,
        token_url=settings.xero_token_url,
        revoke_url=settings.xero_revoke_url,
        api_url=settings.xero_api_url,
        **kwargs,
    )


class MeteredNotifier:
    """Counts consent outcomes on their way to the real notifier."""

    def __init__(self, inner: Notifier) -> None:
        self._inner = inner

    async def consent_changed(self, event: ConsentEvent) -> str | None:
        CONSENT_EVENTS.labels(kind=event.kind.value).inc()
        return await self._inner.consent_changed(event)

    async def stores_alert(self, alert: StoresAlert) -> str | None:
        return await self._inner.stores_alert(alert)

    async def link_reminder(self, reminder: Reminder) -> None:
        await self._inner.link_reminder(reminder)
