"""Modal submissions."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack import ids

from .posting_setup import save_setup
from .register_customer import register_customer


def register(app: AsyncApp) -> None:
    app.view(ids.REGISTER_CUSTOMER_VIEW)(register_customer)
    app.view(ids.SETUP_VIEW)(save_setup)
