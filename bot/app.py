"""The one ASGI application: customer pages and health now, Slack's endpoint alongside."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from bot.domain import ConnectionService
from bot.errors import DomainError
from bot.notify import Notifier
from bot.services import connection_service
from bot.settings import Settings
from handlers import web
from handlers.web.rendering import domain_error_page, not_found_page, unexpected_error_page
from handlers.web.security import (
    BrowserCookie,
    CsrfTokens,
    RateLimit,
    SecurityHeaders,
    content_security_policy,
)


def create_app(
    settings: Settings,
    *,
    service: ConnectionService | None = None,
    notifier: Notifier | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Build the application; without `service`, one is built from settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if service is not None:
            app.state.service = service
            yield
            return
        async with connection_service(settings, notifier=notifier) as built:
            app.state.service = built
            yield

    app = Starlette(
        routes=[*web.routes(), *extra_routes],
        middleware=[
            Middleware(RateLimit, limit=settings.web_rate_limit_per_minute),
            Middleware(
                SecurityHeaders,
                csp=content_security_policy(xero_authorize_url=settings.xero_authorize_url),
            ),
        ],
        exception_handlers={
            DomainError: domain_error_page,
            404: not_found_page,
            Exception: unexpected_error_page,
        },
        lifespan=lifespan,
    )
    if service is not None:
        app.state.service = service
    app.state.settings = settings
    app.state.browser_cookie = BrowserCookie(secure=settings.public_base_url.startswith("https:"))
    app.state.csrf = CsrfTokens(settings.token_encryption_keys[0].encode())
    return app
