"""The Slack front door: Bolt's `AsyncApp` with `/xero`, buttons, modals and the App Home.

Listeners are grouped by kind (commands, actions, views, events), each package with a
`register(app)`. Every listener acknowledges first; slow work follows and answers through
`respond` or the Web API. Errors end in one handler that shows the agent a short message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import audit

from . import actions, commands, events, options, views
from .access import AccessPolicy
from .errors import Surface, report
from .events.home import HELPDESK_KEY, opens_home
from .runtime import RUNTIME_KEY, Runtime, actor_of

REFUSED = (
    "Sorry, `/xero` is for the helpdesk team. Ask a helpdesk admin to add you "
    "(HELPDESK_USERS or the helpdesk user group)."
)


def build_slack_app(*, signing_secret: str, client: AsyncWebClient, runtime: Runtime) -> AsyncApp:
    app = AsyncApp(
        signing_secret=signing_secret,
        client=client,
        process_before_response=False,
    )

    @app.middleware
    async def ignore_retries(request: AsyncBoltRequest, next: Callable[[], Awaitable[None]]) -> Any:
        """Slack retries what it thinks timed out; the first delivery is being handled."""
        if request.headers.get("x-slack-retry-num"):
            return BoltResponse(status=200, body="")
        return await next()

    @app.middleware
    async def only_helpdesk(
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        next: Callable[[], Awaitable[None]],
    ) -> Any:
        context[RUNTIME_KEY] = runtime
        user_id = context.user_id or ""
        if user_id and await runtime.access.is_helpdesk(user_id, client):
            context[HELPDESK_KEY] = True
            context["is_admin"] = await runtime.access.is_admin(user_id, client)
            return await next()
        if opens_home(body):
            context[HELPDESK_KEY] = False  # not an attempt: their Home says whom to ask
            return await next()
        attempted = str(body.get("command") or body.get("type") or "request")
        await audit.record_refusal(
            runtime.deps(),
            actor=actor_of(user_id or "unknown"),
            attempted=f"{attempted} {body.get('text', '')}",
        )
        return await _refusal(body, context)

    @app.error
    async def on_error(
        error: Exception,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """Only failures outside the listeners reach here (a middleware); they still must
        reach the agent the same way."""
        await report(error, Surface.of(body, context, client, respond))

    commands.register(app)
    actions.register(app)
    views.register(app)
    options.register(app)
    events.register(app)
    return app


async def _refusal(body: dict[str, Any], context: AsyncBoltContext) -> BoltResponse:
    if body.get("type") == "view_submission":
        errors = {"response_action": "errors", "errors": {"customer_name": REFUSED[:150]}}
        return BoltResponse(
            status=200, body=json.dumps(errors), headers={"content-type": "application/json"}
        )
    if body.get("type") == "block_actions" and context.respond:
        await context.respond(text=REFUSED, response_type="ephemeral", replace_original=False)
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=REFUSED)


__all__ = ["AccessPolicy", "Runtime", "build_slack_app"]
