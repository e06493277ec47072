"""The `/xero` slash command."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack import ids
from handlers.slack.admin import admin_only

from .xero import typed_disconnect, xero_command


def register(app: AsyncApp) -> None:
    admins_disconnect = admin_only("disconnect organisations", typed_disconnect)
    app.command(ids.COMMAND, middleware=[admins_disconnect])(xero_command)
