"""The `/xero` slash command."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack import ids

from .xero import xero_command


def register(app: AsyncApp) -> None:
    app.command(ids.COMMAND)(xero_command)
