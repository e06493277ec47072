"""Events the app subscribes to: opening the App Home."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from .home import HOME_OPENED, home_opened


def register(app: AsyncApp) -> None:
    app.event(HOME_OPENED)(home_opened)
