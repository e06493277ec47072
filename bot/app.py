"""The one ASGI application: customer pages and health now, Slack's endpoint alongside."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from http import HTTPStatus

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot import scheduler, webhooks
from bot.common.metrics import HttpMetrics, metrics_endpoint, observe_slack, slack_labels
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.domain.api_keys import UsageCounter
from bot.domain.errors import DomainError
from bot.domain.notify import LoggingNotifier
from bot.readiness import Readiness
from bot.services import MeteredNotifier, dependencies_for
from bot.settings import Settings
from handlers import web
from handlers.api import api_mount
from handlers.limits import BodyLimit
from handlers.slack import AccessPolicy, Runtime, build_slack_app
from handlers.slack.commands.xero import SUBCOMMANDS
from handlers.slack.notifier import SlackNotifier
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
    deps: Dependencies | None = None,
    slack_client: AsyncWebClient | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    run_jobs: bool = False,
) -> Starlette:
    """Build the application; without `deps`, they are built from settings at start-up.

    Slack's endpoint is there when the Slack settings are; consent progress is then
    reported in Slack, otherwise only logged. With `run_jobs` (as `serve` does), the
    scheduled jobs run in the background while the application does, unless
    SCHEDULED_JOBS is off.
    """
    slack_client = slack_client or _slack_client(settings)
    notifier = MeteredNotifier(
        SlackNotifier(slack_client, alerts_channel=settings.slack_alerts_channel)
        if slack_client
        else LoggingNotifier()
    )
    readiness = Readiness(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with AsyncExitStack() as stack:
                if deps is not None:
                    app.state.deps = deps
                else:
                    built = dependencies_for(settings, notifier=notifier)
                    app.state.deps = await stack.enter_async_context(built)
                stack.push_async_callback(lambda: usage.flush(app.state.deps))
                if run_jobs:
                    await stack.enter_async_context(scheduler.running(app.state.deps, settings))
                    await stack.enter_async_context(webhooks.pushing(app.state.deps, settings))
                yield
        finally:
            await readiness.aclose()

    usage = UsageCounter()

    routes: list[BaseRoute] = [
        *web.routes(),
        Route("/readyz", readiness.endpoint, name="ready"),
        api_mount(lambda: app.state.deps, usage=usage, on_broken=_alert_now),
        *extra_routes,
    ]
    if settings.metrics_token:
        routes.append(Route("/metrics", metrics_endpoint(settings.metrics_token), name="metrics"))
    bolt = None
    if slack_client is not None:
        bolt = _slack_app(settings, slack_client, lambda: app.state.deps)
        routes.append(_slack_route(bolt))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(HttpMetrics, routes=routes),
            Middleware(BodyLimit),
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
    if deps is not None:
        app.state.deps = deps
    app.state.settings = settings
    app.state.browser_cookie = BrowserCookie(secure=settings.public_base_url.startswith("https:"))
    app.state.csrf = CsrfTokens(settings.token_encryption_keys)
    app.state.slack_bolt = bolt
    return app


async def _alert_now(deps: Dependencies) -> None:
    """A reported problem found a broken connection: run the alerts job now, not in a minute."""
    await scheduler.run_now(deps, scheduler.alerts_job())


def _slack_app(
    settings: Settings, client: AsyncWebClient, deps: Callable[[], Dependencies]
) -> AsyncApp:
    access = AccessPolicy(
        helpdesk_users=settings.helpdesk_users,
        helpdesk_usergroup=settings.helpdesk_usergroup,
        admin_users=settings.admin_users,
        admin_usergroup=settings.admin_usergroup,
    )
    with _hidden_from_bolt("SLACK_BOT_TOKEN"):
        return build_slack_app(
            signing_secret=settings.slack_signing_secret,
            client=client,
            runtime=Runtime(deps=deps, access=access, vault=Vault(settings.token_encryption_keys)),
        )


@contextmanager
def _hidden_from_bolt(name: str) -> Iterator[None]:
    """Bolt reads SLACK_BOT_TOKEN itself and, given our client (built from the same token),
    warns at every start that the token will be unused; settings were read already."""
    value = os.environ.pop(name, None)
    try:
        yield
    finally:
        if value is not None:
            os.environ[name] = value


def _slack_route(bolt: AsyncApp) -> Route:
    """Slack's one Request URL: commands, interactivity and options all arrive here."""
    handler = AsyncSlackRequestHandler(bolt)

    subcommands = frozenset({*SUBCOMMANDS, "customer", "setup", "help"})

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        response = await handler.handle(request)
        if response.status_code == HTTPStatus.UNAUTHORIZED:
            kind, name = "unverified", "other"  # labels never come from unsigned requests
        else:
            kind, name = slack_labels(await request.body(), subcommands=subcommands)
        observe_slack(kind, name, time.perf_counter() - started)
        return response

    return Route("/slack/events", slack_events, methods=["POST"], name="slack")


def _slack_client(settings: Settings) -> AsyncWebClient | None:
    if not (settings.slack_bot_token and settings.slack_signing_secret):
        return None
    return AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
