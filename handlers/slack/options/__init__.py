"""What external selects offer as the agent types (Slack's options requests)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from . import posting


def register(app: AsyncApp) -> None:
    posting.register(app)
