"""The Slack front door: Bolt's `AsyncApp` with the `/xero` command, buttons and modals.

Listeners are grouped by kind (commands, actions, views), each package with a
`register(app)`. Every listener acknowledges first; slow work follows and answers through
`respond` or the Web API. Errors end in one handler that shows the agent a short message.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DomainError

from . import actions, commands, views
from .access import AccessPolicy
from .runtime import RUNTIME_KEY, Runtime, actor_of

log = logging.getLogger(__name__)

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
            context["is_admin"] = await runtime.access.is_admin(user_id, client)
            return await next()
        attempted = str(body.get("command") or body.get("type") or "request")
        await runtime.service().record_access_refused(
            actor=actor_of(user_id or "unknown"), attempted=f"{attempted} {body.get('text', '')}"
        )
        return await _refusal(body, context)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: AsyncRespond) -> None:
        if isinstance(error, DomainError):
            text = f":warning: {error.message}"
        else:
            reference = secrets.token_hex(4)
            log.error("Slack request failed, reference %s", reference, exc_info=error)
            text = (
                f":boom: Something went wrong on our side (reference `{reference}`). "
                "Try again; if it keeps happening, give the reference to the bot's maintainers."
            )
        try:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            log.warning("could not tell the agent about an error", exc_info=True)

    commands.register(app)
    actions.register(app)
    views.register(app)
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
